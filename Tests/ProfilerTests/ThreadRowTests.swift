import Foundation
import Modules
import Tensors
import Testing
import TraceStore

@testable import Profiler

extension Tracing {
    @Suite("Threads of a trace")
    struct ThreadRowTests {
        /// Workers that exit before the drain writes their spans still get a `threads` row (the
        /// export needs it for their tid and name).
        @Test func threadsThatExitEarlyAreNamed() throws {
            let relu = ReLU()
            let shared = box(relu)
            let path = try profile { profiler in
                for _ in 0..<8 {
                    onWorkerThread(profiler) { _ = try shared.value(Tensor.ones([2])) }
                }
                Thread.sleep(forTimeInterval: 0.3)  // the workers have exited and been reaped
                _ = try relu(Tensor.ones([2]))
            }
            let threads = try rows(path, "SELECT count(DISTINCT thread) FROM spans WHERE kind = 'forward'")
            #expect(threads == [[.int(9)]])
            let unnamed = try rows(
                path,
                """
                SELECT count(DISTINCT s.thread) FROM signatures s LEFT JOIN threads t ON t.run_id = s.run_id AND t.id = s.thread
                WHERE t.os_tid IS NULL OR t.os_tid = 0
                """)
            #expect(unnamed == [[.int(0)]], "every thread with spans has its row")
        }
    }
}
