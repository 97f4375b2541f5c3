import Foundation
import Modules
import Tensors
import Testing
import TraceRuntime
import TraceStore

@testable import Profiler

/// A fresh path in a temporary directory.
func temporaryTrace(_ name: String = "trace") -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("\(name).sqlite").path
}

/// Every test that traces in this process runs in this suite, one at a time: a process has one
/// active trace session. Each records only its own threads (a `ThreadGroup`), so suites of other
/// targets that run modules meanwhile do not show up in its trace.
@Suite(.serialized) struct Tracing {}

/// Starts `profiler` recording the calling thread only (and threads enrolled in its group).
func startAlone(_ profiler: Profiler) throws {
    profiler.threads = ThreadGroup()
    try profiler.start()
}

/// Profiles `body` into a new file and returns the file's path.
@discardableResult
func profile(
    _ options: ProfilerOptions = ProfilerOptions(), schedule: ProfilerSchedule? = nil, path: String = temporaryTrace(),
    watch: AnyModule? = nil, locations: Bool = false, _ body: (Profiler) throws -> Void
) throws -> String {
    var options = options
    // Symbolicating a backtrace in this large debug test binary takes seconds: only the tests
    // of source locations turn it on.
    options.sourceLocations = locations
    let profiler = Profiler(output: path, options: options, schedule: schedule, runName: "test")
    if let watch { profiler.watch(watch) }
    try startAlone(profiler)
    do {
        try body(profiler)
    } catch {
        profiler.stop()
        throw error
    }
    profiler.stop()
    return path
}

/// Rows of `sql` as arrays of values.
func rows(_ path: String, _ sql: String) throws -> [[SQLValue]] {
    let reader = try TraceReader(path: path)
    let s = try reader.db.prepare(sql)
    var result: [[SQLValue]] = []
    while try s.step() { result.append((0..<s.columnCount).map { s.value($0) }) }
    return result
}

/// The first column of each row, as text.
func texts(_ path: String, _ sql: String) throws -> [String] {
    try rows(path, sql).map {
        switch $0[0] {
        case .text(let t): t
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .null: "NULL"
        case .blob: "BLOB"
        }
    }
}

final class Inner: Module<Tensor, Tensor> {
    let a = Linear(3, 2)
    let b = ReLU()
    override func forward(_ x: Tensor) throws -> Tensor { try b(a(x)) }
}

final class Outer: Module<Tensor, Tensor> {
    let inner = Inner()
    let c = Linear(2, 2)
    let unused = Linear(2, 2)
    override func forward(_ x: Tensor) throws -> Tensor { try c(inner(x)) }
}
