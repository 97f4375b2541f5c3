import Foundation
import ProfilerAutostart
import TraceEvents
import TraceRuntime

/// Ctrl-C and SIGTERM, the way PyTorch's profiler treats KeyboardInterrupt: the run is finished
/// (spans, statistics, bypass findings, indexes; status `interrupted`), the trace's place is
/// printed, and the process then ends with the signal's usual status. A second signal ends it at once.
extension Profiler {
    /// Installs the handlers and the thread that finishes the trace, once per process.
    static let interruptWatcher: Void = {
        let fd = tracewell_install_interrupt_handlers()
        guard fd >= 0 else { return }
        let watcher = Thread {
            var byte: UInt8 = 0
            while read(fd, &byte, 1) != 1 {
                if errno != EINTR { return }
            }
            let signal = Int32(byte)
            Profiler.active?.finishInterrupted(by: signal)
            tracewell_reraise(signal)
        }
        watcher.name = "tracewell-interrupt"
        watcher.start()
    }()

    /// Finishes the run from the watcher thread and says where the trace is.
    func finishInterrupted(by signal: Int32) {
        let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
        let results = stop(status: .interrupted, onTracedThread: false)
        guard let last = results.last else {
            StandardError.write("tracewell: \(name): nothing was traced\n")
            return
        }
        StandardError.write("tracewell: \(name): trace written to \(last.path) (run \(last.runID), interrupted, \(last.spans) spans)\n")
    }
}
