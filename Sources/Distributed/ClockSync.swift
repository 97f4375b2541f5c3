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
    /// Exchanges counted per peer at least, after `warmUp` that are not (the first messages after
    /// `MPI_Init` set up the shared-memory or TCP channel and take far longer). More follow,
    /// up to `budgetNs` of exchanging, until one round trip took at most `goodRoundTripNs`:
    /// on a loaded machine a round trip waits for both processes to be scheduled.
    static let exchanges = 16
    static let warmUp = 4
    static let goodRoundTripNs: Int64 = 50_000
    static let budgetNs: Int64 = 200_000_000
    static let maxExchanges = 4_000
    private static let tag: Int32 = 7_301

    /// Measures this rank's offset (rank 0: 0 ± 0) and records it for the traces.
    static func measure(on comm: CommThread, phase: String) -> String? {
        let host = hostHash()
        var best: (rtt: Int64, offset: Int64) = (Int64.max, 0)
        var sameHost = true
        var counted = 0
        // Rank r sends [t1, host, more]; rank 0 answers [t0, host] until `more` is 0.
        let send = CollectiveBuffer<Int64>(count: 3)
        let receive = CollectiveBuffer<Int64>(count: 3)
        func post(_ peer: Int, _ isSend: Bool) -> String? {
            let start: CommThread.Start =
                isSend
                ? { MPI_Isend(send.pointer, 3, Int64.mpiType, Int32(peer), tag, cmpi_comm_world(), &$0) }
                : { MPI_Irecv(receive.pointer, 3, Int64.mpiType, Int32(peer), tag, cmpi_comm_world(), &$0) }
            return comm.execute([start], deadline: comm.deadline, what: "the clock ping-pong with rank \(peer)")
        }
        for peer in 1..<comm.size where comm.rank == 0 || comm.rank == peer {
            if comm.rank == 0 {
                // Answer until the peer says it has enough.
                repeat {
                    if let failure = post(peer, false) { return failure }
                    (send.pointer[0], send.pointer[1]) = (now(), host)
                    if let failure = post(peer, true) { return failure }
                } while receive.pointer[2] != 0
                continue
            }
            let began = now()
            var round = 0
            while true {
                let enough =
                    counted >= exchanges
                    && (best.rtt <= goodRoundTripNs || now() - began > budgetNs || round + 1 >= warmUp + maxExchanges)
                let t1 = now()
                (send.pointer[0], send.pointer[1], send.pointer[2]) = (t1, host, enough ? 0 : 1)
                if let failure = post(0, true) ?? post(0, false) { return failure }
                let t3 = now()
                sameHost = receive.pointer[1] == host
                if round >= warmUp {
                    counted += 1
                    if t3 - t1 < best.rtt { best = (t3 - t1, (t1 + t3) / 2 - receive.pointer[0]) }
                }
                round += 1
                if enough { break }
            }
        }
        let sample =
            comm.rank == 0
            ? ClockSample(
                phase: phase, method: "reference (rank 0)", offsetNs: 0, boundNs: 0, minRoundTripNs: 0, exchanges: 0, sameHost: true)
            : ClockSample(
                phase: phase, method: "ping-pong with rank 0, shortest round trip of \(counted) exchanges",
                offsetNs: best.offset, boundNs: (best.rtt + 1) / 2, minRoundTripNs: best.rtt, exchanges: counted,
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
