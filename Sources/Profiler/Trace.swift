import Modules
import Tensors
import TraceEvents
import TraceRuntime
import TraceTools

/// A graph captured by `trace(_:_:)`, with the module names it refers to.
public struct TracedGraph {
    /// The ops that ran, in SSA form.
    public let graph: StaticGraph
    /// The modules the graph's scopes refer to, by id.
    public let modules: [UInt32: ModuleInfo]

    /// TorchScript-like text of the ops.
    public var text: String { graph.text { id in modules[id].map { ($0.path, $0.type) } } }
}

/// Runs `model` on `example` once and records its ops as a static graph, like
/// `torch.jit.trace` (the model runs normally; nothing is compiled). Ops of submodules
/// whose `forward` was called directly are marked as bypasses. Call it while no profiler
/// runs (it needs the tracer to itself).
public func trace<Input, Output>(_ model: Module<Input, Output>, _ example: Input) throws -> TracedGraph {
    try Profiler.activeProfiler.withLock { current in
        guard current == nil else {
            throw ProfilerError(description: "trace(): a profiler or another trace() is running; trace before or after profiling")
        }
        current = Profiler.Box(nil)
    }
    defer { Profiler.activeProfiler.withLock { $0 = nil } }
    // A session of its own that records this thread only and writes nothing.
    let threads = ThreadGroup()
    threads.enrollCurrentThread()
    let session = try TraceSession(sink: nil, flags: [.spans, .graph, .silent], threads: threads)
    defer { session.stop() }
    TraceDefinitions.define(root: model)
    let recorder = GraphRecorder(label: "trace", step: 0)
    session.graphRecorder = recorder
    let output = try noGrad { try model(example) }
    let graph = recorder.finish(outputs: output.tensors)
    let modules = Dictionary(session.modules.all().map { ($0.id, $0) }, uniquingKeysWith: { _, b in b })
    return TracedGraph(graph: graph, modules: modules)
}
