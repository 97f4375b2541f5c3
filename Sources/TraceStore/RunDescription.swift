import Foundation

/// What a run records about itself in the `runs` table.
public struct RunDescription: Sendable {
    public var name: String
    public var command: String
    public var host: String
    public var pid: Int
    public var rank: Int
    public var worldSize: Int
    /// JSON object of the profiler options.
    public var options: String
    public var startWallNanoseconds: UInt64

    public init(name: String, options: String, startWallNanoseconds: UInt64, rank: Int = 0, worldSize: Int = 1,
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
