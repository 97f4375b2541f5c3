import Distributed
import Foundation
import Testing

@Suite("Process group")
struct ProcessGroupTests {
    @Test func aGroupOfOneKeepsValuesAndNeedsNoMPI() throws {
        let group = ProcessGroup(single: .seconds(5))
        #expect(group.rank == 0 && group.size == 1 && !group.usesMPI)
        var values: [Float] = [1, 2, 3]
        try group.allReduce(&values)
        #expect(values == [1, 2, 3])
        var ints: [Int32] = [4, 5]
        try group.broadcast(&ints)
        #expect(ints == [4, 5])
        #expect(try group.allGather([Int32(7)]) == [7])
        let buffer = CollectiveBuffer<Float>([9, 8])
        let work = group.allReduceAsync(buffer, label: "bucket 0")
        #expect(work.isCompleted)
        try work.wait()
        #expect(buffer.array == [9, 8] && work.collective == "all_reduce (bucket 0, 2 float32)")
    }

    @Test func aBadRootIsAnErrorNamingTheCollective() {
        let group = ProcessGroup(single: .seconds(5))
        var values: [Float] = [1]
        #expect {
            try group.broadcast(&values, root: 1, label: "buffers")
        } throws: { error in
            (error as? DistributedError)?.description == "broadcast (buffers, 1 float32) on rank 0 of 1: root 1 is not a rank (size 1)"
        }
    }

    @Test(.enabled(if: MPIRun.available, Comment(rawValue: MPIRun.missing)))
    func collectivesOnTwoRanksGiveKnownAnswers() throws {
        let result = try MPIRun.run("mpi-selftest", ["collectives"], timeout: 60)
        #expect(!result.timedOut && result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").sorted()
        #expect(lines == ["collectives ok on rank 0 of 2, mpi true", "collectives ok on rank 1 of 2, mpi true"])
    }

    @Test(.enabled(if: MPIRun.available, Comment(rawValue: MPIRun.missing)))
    func aPeerThatNeverJoinsEndsInABoundedNamedFailure() throws {
        let result = try MPIRun.run("mpi-selftest", ["stall"], environment: ["TRACEWELL_COLLECTIVE_TIMEOUT": "1"], timeout: 40)
        #expect(!result.timedOut)
        #expect(result.status != 0)
        // The waiting rank gives up after 1 s (plus start-up), long before the peer's 30 s sleep ends.
        #expect(result.seconds < 20)
        let line = result.stderr.split(separator: "\n").first { $0.hasPrefix("mpi-selftest:") }
        #expect(
            line
                == "mpi-selftest: all_reduce (bucket 0, 3 float32) on rank 0 of 2: timed out after 1 s: a peer died, hung or skipped this collective"
        )
    }

    @Test(.enabled(if: MPIRun.available, Comment(rawValue: MPIRun.missing)))
    func aPeerThatIsKilledEndsTheJobInBoundedTime() throws {
        let result = try MPIRun.run("mpi-selftest", ["die"], environment: ["TRACEWELL_COLLECTIVE_TIMEOUT": "5"], timeout: 40)
        #expect(!result.timedOut && result.status != 0)
        #expect(result.seconds < 20)
        #expect(!result.stdout.contains("returned") && !result.stderr.contains("with a dead peer returned"))
    }

    @Test(.enabled(if: MPIRun.available, Comment(rawValue: MPIRun.missing)))
    func theRemoteLaunchPathWorksThroughAnRshAgent() throws {
        // mpirun starts the rank on "127.0.0.2" through the agent, as it would through ssh.
        let agent = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-fake-ssh-\(getpid()).sh")
        try """
        #!/bin/sh
        # A stand-in for ssh: drop the options and the host name, run the command here.
        while [ $# -gt 0 ]; do case "$1" in -*) shift ;; *) break ;; esac; done
        shift
        echo "$1" | grep -q orted && echo "agent: launched on $(hostname)" >&2
        exec sh -c "$*"
        """.write(to: agent, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: agent.path)
        defer { try? FileManager.default.removeItem(at: agent) }
        let result = try MPIRun.run(
            "mpi-selftest", ["collectives"],
            mpiArgs: ["--mca", "plm_rsh_agent", agent.path, "--host", "localhost:1,127.0.0.2:1"],
            timeout: 60)
        #expect(!result.timedOut && result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.split(separator: "\n").sorted() == [
                "collectives ok on rank 0 of 2, mpi true", "collectives ok on rank 1 of 2, mpi true",
            ])
        #expect(result.stderr.contains("agent: launched"))
    }
}
