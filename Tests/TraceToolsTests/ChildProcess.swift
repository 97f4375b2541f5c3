import Foundation
import Synchronization

// Shared by the test targets that launch the package's executables (symlinked into ProfilerTests).

/// A finished child process: how it ended and what it printed.
struct ChildOutcome {
    var reason: Process.TerminationReason
    var status: Int32
    var stdout: String
    var stderr: String
    /// The child ran past its time limit and was killed.
    var timedOut = false
    /// The child died of a signal (its own, or the kill at the time limit).
    var signaled: Bool { reason == .uncaughtSignal }
}

/// Runs `executable` with `arguments` (environment: added to this process's), reading both
/// outputs as they come (a crash's backtrace or a long report cannot block on a full pipe), and
/// kills it with SIGKILL after `timeout` seconds.
func runChild(
    _ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 120
) throws -> ChildOutcome {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stderr = Mutex(Data())
    let readErrors = DispatchGroup()
    DispatchQueue.global().async(group: readErrors) {
        let data = err.fileHandleForReading.readDataToEndOfFile()
        stderr.withLock { $0 = data }
    }
    let timedOut = Mutex(false)
    let pid = process.processIdentifier
    let limit = DispatchWorkItem {
        timedOut.withLock { $0 = true }
        kill(pid, SIGKILL)
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: limit)
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    readErrors.wait()
    process.waitUntilExit()
    limit.cancel()
    return ChildOutcome(
        reason: process.terminationReason, status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr.withLock { $0 }, as: UTF8.self), timedOut: timedOut.withLock { $0 })
}
