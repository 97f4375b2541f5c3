import Foundation
import Modules
import Synchronization
import Tensors
import TraceEvents
import TraceRuntime
import TraceStore
import TraceTools

/// A finished run in a trace file.
public struct TraceResult: Sendable {
    /// The trace file.
    public var path: String
    /// The run's id in the file (`tracectl --run ID`).
    public var runID: Int64
    /// Spans written.
    public var spans: Int64
    /// Spans lost because the writer fell behind (also in `runs.dropped_events`).
    public var dropped: UInt64
    /// Profiler steps the run covers.
    public var steps: ClosedRange<Int>?
}

/// A profiler failure: the trace cannot be written.
public struct ProfilerError: Error, CustomStringConvertible {
    /// One line saying what went wrong.
    public let description: String
}

/// Records what a training run does into a SQLite trace (PyTorch's `torch.profiler.profile`).
///
/// ```swift
/// let profiler = Profiler(output: "Traces/run.sqlite")
/// try profiler.start()
/// for batch in data { try train(batch); profiler.step() }
/// let result = try profiler.stop()
/// ```
/// With a `schedule`, only active steps are recorded, each window as its own run, and
/// `onTraceReady` is called as each window is written.
public final class Profiler {
    /// Where the trace is written.
    public let output: String
    /// What is recorded.
    public let options: ProfilerOptions
    /// Which steps are recorded (nil: every step from `start()` to `stop()`).
    public let schedule: ProfilerSchedule?
    /// Names the runs in the `runs` table.
    public var runName: String
    /// Called when a run has been written (the end of each active window, or `stop()`).
    public var onTraceReady: ((TraceResult) -> Void)?
    /// True when this profiler was started from the environment (`TRACEWELL_TRACE`); it
    /// then counts steps from `Optimizer.step()` unless the program calls `step()` itself.
    public internal(set) var startedFromEnvironment = false

    /// The threads recorded: nil (the default) records every thread of the process; a group
    /// records the thread that calls `start()` and those enrolled in the group.
    public var threads: ThreadGroup?

    /// Runs written so far.
    public private(set) var results: [TraceResult] = []
    /// Why tracing stopped early, if it did (the program itself carries on).
    public private(set) var failure: String?
    /// The current step, 0-based.
    public private(set) var currentStep = 0

    private var watched: [AnyModule] = []
    private var session: TraceSession?
    private var writer: TraceWriter?
    private var stepToken: Int32 = -1
    private var windowFirstStep: Int?
    private var graphRecorder: GraphRecorder?
    private var graphs: [StaticGraph] = []
    private var started = false
    private let lock = NSLock()

    /// A profiler that writes to `output` once started; `runName` defaults to the program's name.
    public init(
        output: String, options: ProfilerOptions = ProfilerOptions(), schedule: ProfilerSchedule? = nil,
        runName: String? = nil
    ) {
        self.output = output
        self.options = options
        self.schedule = schedule
        self.runName = runName ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "run").lastPathComponent
    }

    /// Describes `module`'s tree at the start of every run, so that modules which never
    /// run are listed too (otherwise trees are described when their root is first called).
    public func watch(_ module: AnyModule) {
        watched.append(module)
        if session != nil { TraceDefinitions.define(root: module) }
    }

    /// The profiler that is running, if any (there is at most one per process).
    public static var active: Profiler? { activeProfiler.withLock { $0?.value } }
    static let activeProfiler = Mutex<Box?>(nil)
    /// What holds the process's tracing: a profiler, or `trace(_:_:)` (value nil).
    /// Sendable by hand: it only carries the reference; the Profiler guards its state with its lock.
    final class Box: @unchecked Sendable {
        let value: Profiler?
        init(_ value: Profiler?) { self.value = value }
    }

    /// Starts profiling at step 0.
    public func start() throws {
        try Profiler.activeProfiler.withLock { current in
            guard current == nil else {
                throw ProfilerError(description: current!.value == nil ? "a trace() is running" : "another profiler is already running")
            }
            current = Box(self)
        }
        threads?.enrollCurrentThread()
        started = true
        _ = Profiler.interruptWatcher
        currentStep = 0
        TraceSession.step = 0
        do {
            try enter(action(at: 0), step: 0)
        } catch {
            Profiler.activeProfiler.withLock { $0 = nil }
            started = false
            throw error
        }
    }

    /// Ends step `currentStep` and begins the next (call once per training iteration).
    public func step() {
        explicitlyStepped = true
        advance()
    }

    /// Steps driven by `Optimizer.step()`, until the program calls `step()` itself.
    func stepFromOptimizer() {
        if !explicitlyStepped { advance() }
    }

    private var explicitlyStepped = false

    private func advance() {
        lock.lock()
        defer { lock.unlock() }
        guard started else { return }
        finishGraph()
        closeStepSpan()
        let previous = action(at: currentStep)
        currentStep += 1
        TraceSession.step = UInt32(currentStep)
        if previous == .recordAndSave { finishRun(lastStep: currentStep - 1) }
        do {
            try enter(action(at: currentStep), step: currentStep)
        } catch {
            fail("\(error)")
        }
    }

    /// Stops recording without ending the run (the wrapper is back on its fast path);
    /// `resume()` continues. Like PyTorch's `toggle_collection_dynamic`.
    /// A graph being captured when paused is dropped: it would miss ops.
    public func pause() {
        lock.lock()
        defer { lock.unlock() }
        if graphRecorder != nil {
            session?.graphRecorder = nil
            graphRecorder = nil
        }
        session?.setFlags([])
    }

    /// Resumes recording after `pause()`.
    public func resume() {
        lock.lock()
        defer { lock.unlock() }
        session?.setFlags(options.flags)
    }

    /// Stops profiling and writes the current run. Returns every run written.
    @discardableResult
    public func stop() -> [TraceResult] { stop(status: .complete, onTracedThread: true) }

    /// Stops and writes the run as `status`. Off the thread that traces steps (a signal's watcher),
    /// the step span is left open: span tokens belong to their thread.
    func stop(status: RunStatus, onTracedThread: Bool) -> [TraceResult] {
        lock.lock()
        defer { lock.unlock() }
        guard started else { return results }
        finishGraph()
        // A step that recorded nothing (stop() right after step()) is not a step.
        var lastStep = currentStep
        if onTracedThread {
            lastStep = SpanTracer.hasSpans(after: stepToken) || stepToken < 0 ? currentStep : currentStep - 1
            if SpanTracer.hasSpans(after: stepToken) {
                closeStepSpan()
            } else {
                SpanTracer.discard(stepToken)
                stepToken = -1
            }
        }
        finishRun(lastStep: lastStep, status: status)
        started = false
        Profiler.activeProfiler.withLock { if $0?.value === self { $0 = nil } }
        return results
    }

    /// Profiles `body`, which receives the profiler to call `step()` on.
    public static func profile<R>(
        output: String, options: ProfilerOptions = ProfilerOptions(),
        schedule: ProfilerSchedule? = nil, _ body: (Profiler) throws -> R
    ) throws -> (R, [TraceResult]) {
        let profiler = Profiler(output: output, options: options, schedule: schedule)
        try profiler.start()
        do {
            let result = try body(profiler)
            return (result, profiler.stop())
        } catch {
            profiler.stop()
            throw error
        }
    }

    // MARK: Windows

    private func action(at step: Int) -> ProfilerSchedule.Action { schedule?.action(at: step) ?? .record }

    /// Moves into the phase of `step`: opens a session if needed, sets flags, opens the step span.
    private func enter(_ action: ProfilerSchedule.Action, step: Int) throws {
        guard failure == nil else { return }
        switch action {
        case .none:
            return
        case .warmup, .record, .recordAndSave:
            if session == nil { try openSession() }
            if action == .warmup {
                session?.discard(step: UInt32(step))
            } else {
                if windowFirstStep == nil { windowFirstStep = step }
                if options.graph && capturesGraph(action, step) { startGraph(step) }
            }
        }
        openStepSpan(step)
    }

    // MARK: Graphs

    /// The first recorded step of a window, and a later one: the last of a schedule's window,
    /// or `graphCompareAfter` steps later without a schedule.
    private func capturesGraph(_ action: ProfilerSchedule.Action, _ step: Int) -> Bool {
        guard let first = windowFirstStep else { return false }
        if step == first { return true }
        return schedule == nil ? step == first + options.graphCompareAfter : action == .recordAndSave
    }

    private func startGraph(_ step: Int) {
        graphRecorder = GraphRecorder(label: "step \(step)", step: UInt32(step))
        session?.graphRecorder = graphRecorder
        session?.setFlags(options.flags.union(.graph))
    }

    private func finishGraph() {
        guard let recorder = graphRecorder else { return }
        session?.setFlags(options.flags)
        session?.graphRecorder = nil
        graphRecorder = nil
        let graph = recorder.finish()
        // A step that ran no op (the one open when the profiler stops) has no graph.
        guard !graph.nodes.isEmpty else { return }
        graphs.append(graph)
        writer?.enqueue(graph)
    }

    /// TorchScript warns that a traced graph may not hold for other inputs; we compare two steps.
    private func compareGraphs() {
        defer { graphs.removeAll() }
        guard let (first, last) = StaticGraph.comparable(graphs), let session else { return }
        let modules = Dictionary(session.modules.all().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        if let difference = StaticGraph.firstDifference(first, last, module: { modules[$0].map { ($0.path, $0.type) } }) {
            StandardError.write(
                "tracewell: the static graph changed between steps \(first.step) and \(last.step) "
                    + "(data-dependent control flow?): \(difference)\n")
        }
    }

    private func openSession() throws {
        let startWall = Clock.wallNanoseconds()
        try Profiler.makeDirectories(for: output)
        let name = runName
        let run = RunDescription(name: name, options: options.json, startWallNanoseconds: startWall)
        let writer: TraceWriter
        let modules = ModuleRegistry(feedsCrashRecorder: true)
        let names = Interner(feedsCrashRecorder: true)
        do {
            writer = try TraceWriter(path: output, run: run, maxBytes: options.maxFileBytes, names: names)
        } catch {
            throw ProfilerError(description: "cannot write the trace: \(error)")
        }
        if let notice = writer.notice { StandardError.write("tracewell: \(notice)\n") }
        if let notice = writer.crashNotice { StandardError.write("tracewell: \(notice)\n") }
        writer.describeModules = { modules.all() }
        writer.describeThreads = { Tracer.threads() }
        // The flight recorder: a crash of this run leaves `<trace>.crash` beside the trace.
        CrashRecorder.arm(tracePath: writer.path, runID: writer.runID)
        let session: TraceSession
        do {
            session = try TraceSession(
                sink: writer, flags: options.flags, threads: threads, modules: modules, names: names,
                drainInterval: options.drainInterval)
        } catch {
            CrashRecorder.disarm(runID: writer.runID)
            throw error
        }
        CrashRecorder.begin(session)
        if options.sourceLocations { session.findings.locateCaller = { CallSites.caller().map(Profiler.describe) } }
        for module in watched { TraceDefinitions.define(root: module) }
        writer.recordClockOrigin(wallNanoseconds: session.startWall, monotonicNanoseconds: session.startMonotonic)
        self.writer = writer
        self.session = session
        windowFirstStep = nil
    }

    /// Creates the folders `path` needs, with the system's reason when one cannot be made.
    static func makeDirectories(for path: String) throws {
        var folder = ""
        for part in URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.pathComponents.dropFirst() {
            folder += "/" + part
            if mkdir(folder, 0o755) != 0 && errno != EEXIST {
                throw ProfilerError(description: "cannot create \(folder): \(String(cString: strerror(errno)))")
            }
        }
    }

    private func openStepSpan(_ step: Int) {
        guard session != nil, TraceFlags.current.contains(.spans) else { return }
        stepToken = SpanTracer.begin(.step, subject: UInt32(step))
    }

    private func closeStepSpan() {
        SpanTracer.end(stepToken)
        stepToken = -1
    }

    /// Ends the session and writes the run's closing tables.
    private func finishRun(lastStep: Int, status: RunStatus = .complete) {
        guard let session, let writer else { return }
        finishGraph()
        compareGraphs()
        let stats = session.stop()
        CrashRecorder.disarm(runID: writer.runID)
        self.session = nil
        self.writer = nil
        if let problem = session.failure {
            fail(problem, alreadyReported: true)
            return
        }
        do {
            let modules = session.modules.all()
            let neverRan = NeverRan.findings(modules: modules, ran: writer.modulesThatRan, firstStep: writer.firstStep ?? 0)
            try writer.finish(
                modules: modules, bypasses: RunFindings.collect(session) + neverRan,
                threads: Tracer.threads(), endWallNanoseconds: Clock.wallNanoseconds(),
                dropped: stats.dropped, status: status)
        } catch {
            fail("cannot finish the trace: \(error)")
            return
        }
        let result = TraceResult(
            path: writer.path, runID: writer.runID, spans: writer.spanCount, dropped: stats.dropped,
            steps: windowFirstStep.map { $0...max($0, lastStep) })
        results.append(result)
        onTraceReady?(result)
    }

    private func fail(_ message: String, alreadyReported: Bool = false) {
        guard failure == nil else { return }
        failure = message
        session?.setFlags([])
        if !alreadyReported {
            StandardError.write("tracewell: tracing stopped: \(message); the program continues without tracing\n")
        }
    }
}

extension Profiler {
    /// `Sources/Examples/Models/MLP.swift:23`: relative to the working directory when under it.
    static func describe(_ site: CallSite) -> String {
        let here = FileManager.default.currentDirectoryPath + "/"
        let file = site.file.hasPrefix(here) ? String(site.file.dropFirst(here.count)) : site.file
        return "\(file):\(site.line)"
    }
}
