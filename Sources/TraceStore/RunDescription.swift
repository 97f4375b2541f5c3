import Foundation

/// What a run records about itself in the `runs` table.
package struct RunDescription: Sendable {
    package var name: String
    package var command: String
    package var host: String
    package var pid: Int
    package var rank: Int
    package var worldSize: Int
    /// JSON object of the profiler options.
    package var options: String
    package var startWallNanoseconds: UInt64

    package init(name: String, options: String, startWallNanoseconds: UInt64, rank: Int = 0, worldSize: Int = 1,
                command: String = CommandLine.arguments.joined(separator: " "),
                host: String = ProcessInfo.processInfo.hostName, pid: Int = Int(ProcessInfo.processInfo.processIdentifier)) {
        self.name = name
        self.options = options
        self.startWallNanoseconds = startWallNanoseconds
        self.rank = rank
        self.worldSize = worldSize
        self.command = command
        self.host = host
        self.pid = pid
    }
}
