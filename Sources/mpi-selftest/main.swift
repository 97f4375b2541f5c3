// Run by the tests under `mpirun -n 2` (never inside the test process, which must not
// initialise MPI): checks the process group's collectives against known answers, or
// (`stall`) shows that a peer that never joins ends in a bounded, named failure.
import Distributed
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write("mpi-selftest: \(message)\n".data(using: .utf8)!)
    exit(1)
}

func expect<T: Equatable>(_ got: T, _ want: T, _ what: String) {
    if got != want { fail("\(what): got \(got), expected \(want)") }
}

let mode = CommandLine.arguments.dropFirst().first ?? "collectives"
let group: ProcessGroup
do { group = try ProcessGroup.world() } catch { fail("\(error)") }
let (rank, size) = (group.rank, group.size)

do {
    switch mode {
    case "collectives":
        var floats: [Float] = [Float(rank + 1), 0.5, -Float(rank)]
        try group.allReduce(&floats)
        let n = Float(size)
        expect(floats, [n * (n + 1) / 2, 0.5 * n, -n * (n - 1) / 2], "all_reduce float32 sum")
        var ints: [Int32] = [Int32(rank), Int32(10 - rank)]
        try group.allReduce(&ints, op: .max)
        expect(ints, [Int32(size - 1), 10], "all_reduce int32 max")
        let buffer = CollectiveBuffer<Float>([Float](repeating: Float(rank), count: 100_000))
        let work = group.allReduceAsync(buffer, label: "async")
        try work.wait()
        expect(buffer.array.allSatisfy { $0 == n * (n - 1) / 2 }, true, "async all_reduce")
        var broadcast: [Int32] = rank == size - 1 ? [7, 8, 9] : [0, 0, 0]
        try group.broadcast(&broadcast, root: size - 1)
        expect(broadcast, [7, 8, 9], "broadcast int32 from the last rank")
        let gathered = try group.allGather([Float(rank), Float(rank * 10)])
        expect(gathered, (0..<size).flatMap { [Float($0), Float($0 * 10)] }, "all_gather float32")
        try group.barrier()
        do {
            var values: [Float] = [1]
            try group.broadcast(&values, root: size)
            fail("broadcast from a rank that does not exist did not throw")
        } catch let error as DistributedError {
            expect(
                error.description.hasPrefix("broadcast (1 float32) on rank \(rank) of \(size): root \(size)"), true,
                "error names the collective: \(error)")
        }
        print("collectives ok on rank \(rank) of \(size), mpi \(group.usesMPI)")
    case "stall":
        // The last rank never joins: the others must give up after the timeout, with one line.
        if rank == size - 1 {
            Thread.sleep(forTimeInterval: 30)
            exit(0)
        }
        var values: [Float] = [1, 2, 3]
        try group.allReduce(&values, label: "bucket 0")
        fail("all_reduce without its peer returned")
    case "die":
        // The last rank is killed before the all-reduce: the others must not wait forever.
        if rank == size - 1 { kill(getpid(), SIGKILL) }
        var values: [Float] = [1]
        try group.allReduce(&values, label: "bucket 0")
        fail("all_reduce with a dead peer returned")
    default:
        fail("unknown mode \(mode)")
    }
    try group.barrier()
    group.finalize()
} catch {
    FileHandle.standardError.write("mpi-selftest: \(error)\n".data(using: .utf8)!)
    exit(3)
}
