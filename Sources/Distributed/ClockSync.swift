import CMPI
import Foundation
import TraceRuntime

/// NTP-style estimate of each rank's CLOCK_MONOTONIC offset to rank 0's, by ping-pong.
///
/// Rank r sends its time t1; rank 0 answers with its time t0 on receipt; r reads t3 when the
/// answer arrives. Since rank 0 read t0 between r's send and r's receive, the true offset
/// (r's clock minus rank 0's) lies in [t1 - t0, t3 - t0]: the estimate is the middle,
/// (t1 + t3) / 2 - t0, and the bound half the round trip, whatever the delays in each direction.
/// Of several exchanges the one with the shortest round trip is kept. Runs on the thread
/// that calls MPI, one peer at a time, each message bounded by the group's timeout.
enum ClockSync {
    /// Exchanges per peer, after `warmUp` that are not counted (the first messages after
    /// `MPI_Init` set up the shared-memory or TCP channel and take far longer).
    static let exchanges = 16
    static let warmUp = 4
    private static let tag: Int32 = 7_301

    /// Measures this rank's offset (rank 0: 0 ± 0) and records it for the traces.
    static func measure(on comm: CommThread, phase: String) -> String? {
        let host = hostHash()
        var best: (rtt: Int64, offset: Int64) = (Int64.max, 0)
        var sameHost = true
        let message = [Int64](repeating: 0, count: 2)
        let send = CollectiveBuffer<Int64>(message)
        let receive = CollectiveBuffer<Int64>(message)
        func exchange(_ peer: Int, sendFirst: Bool) -> String? {
            let isend: CommThread.Start = { MPI_Isend(send.pointer, 2, Int64.mpiType, Int32(peer), tag, cmpi_comm_world(), &$0) }
            let irecv: CommThread.Start = { MPI_Irecv(receive.pointer, 2, Int64.mpiType, Int32(peer), tag, cmpi_comm_world(), &$0) }
            let what = "the clock ping-pong with rank \(peer)"
            if sendFirst {
                send.pointer[0] = now()
                send.pointer[1] = host
                if let failure = comm.execute([isend], deadline: comm.deadline, what: what) { return failure }
                return comm.execute([irecv], deadline: comm.deadline, what: what)
            }
            if let failure = comm.execute([irecv], deadline: comm.deadline, what: what) { return failure }
            send.pointer[0] = now()
            send.pointer[1] = host
            return comm.execute([isend], deadline: comm.deadline, what: what)
        }
        for peer in 1..<comm.size where comm.rank == 0 || comm.rank == peer {
            for round in 0..<(warmUp + exchanges) {
                if comm.rank == 0 {
                    if let failure = exchange(peer, sendFirst: false) { return failure }
                    continue
                }
                let t1 = now()
                if let failure = exchange(0, sendFirst: true) { return failure }
                let t3 = now()
                let t0 = receive.pointer[0]
                sameHost = receive.pointer[1] == host
                let rtt = t3 - t1
                if round >= warmUp && rtt < best.rtt { best = (rtt, (t1 + t3) / 2 - t0) }
            }
        }
        let sample =
            comm.rank == 0
            ? ClockSample(
                phase: phase, method: "reference (rank 0)", offsetNs: 0, boundNs: 0, minRoundTripNs: 0, exchanges: 0, sameHost: true)
            : ClockSample(
                phase: phase, method: "ping-pong with rank 0, shortest round trip of \(exchanges) exchanges",
                offsetNs: best.offset, boundNs: (best.rtt + 1) / 2, minRoundTripNs: best.rtt, exchanges: exchanges,
                sameHost: sameHost)
        if phase == "start" { comm.offsetToRoot = sameHost ? 0 : sample.offsetNs }
        ClockAlignment.record(sample)
        return nil
    }

    private static func now() -> Int64 { Int64(bitPattern: Clock.monotonicNanoseconds()) }

    /// A hash of the host name, the same in every process of one host (FNV-1a).
    private static func hostHash() -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ProcessInfo.processInfo.hostName.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int64(bitPattern: hash)
    }
}
