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

    package init(
        name: String, options: String, startWallNanoseconds: UInt64,
        rank: Int = RunDescription.launcher.rank, worldSize: Int = RunDescription.launcher.size,
        command: String = CommandLine.arguments.joined(separator: " "),
        host: String = ProcessInfo.processInfo.hostName, pid: Int = Int(ProcessInfo.processInfo.processIdentifier)
    ) {
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

extension RunDescription {
    /// This process's rank and world size as the MPI launcher (`mpirun`) set them in the
    /// environment; (0, 1) otherwise.
    package static var launcher: (rank: Int, size: Int, job: String?) { launcher(ProcessInfo.processInfo.environment) }

    /// The launcher's rank, world size and job in `env`; (0, 1, nil) without one.
    package static func launcher(_ env: [String: String]) -> (rank: Int, size: Int, job: String?) {
        guard let size = env["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init), size >= 1,
            let rank = env["OMPI_COMM_WORLD_RANK"].flatMap(Int.init), (0..<size).contains(rank)
        else { return (0, 1, nil) }
        return (rank, size, env["OMPI_MCA_ess_base_jobid"] ?? env["PMIX_NAMESPACE"])
    }
}
