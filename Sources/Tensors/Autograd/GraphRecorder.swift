import TraceEvents
import TraceRuntime

/// Builds a `StaticGraph` from the ops that run while it is the session's
/// `graphRecorder` (and `TraceFlags.graph` is on). Tensors are told apart by
/// identity; the recorder keeps them alive until it is done so identities stay unique.
/// Used from one thread: calls from other threads are ignored.
public final class GraphRecorder {
    /// The graph recorded so far.
    public private(set) var graph: StaticGraph
    private var names: [ObjectIdentifier: String] = [:]
    private var keepAlive: [Tensor] = []
    private var consumed = Set<String>()
    private var produced: [String] = []
    private var counter = 0
    private var callIndex: [UInt64: Int] = [:]
    /// Ops of other threads are not part of this graph.
    private let thread = ThreadTrace.current.pointee.index

    /// A recorder for an empty graph labelled `label` at training step `step`, recording ops of the calling thread.
    public init(label: String, step: UInt32) {
        graph = StaticGraph(label: label, step: step)
    }

    private var onRecordingThread: Bool { ThreadTrace.current.pointee.index == thread }

    /// `Float(64, 784)` / `Int(64)`.
    static func type(_ t: Tensor) -> String {
        (t.dtype == .float32 ? "Float" : "Int") + "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
    }

    private func name(of t: Tensor) -> String {
        if let known = names[ObjectIdentifier(t)] { return known }
        let name: String
        if let parameter = t.parameter {
            name = "%" + parameter.path
        } else {
            name = graph.inputs.isEmpty ? "%x" : "%x.\(graph.inputs.count)"
            graph.inputs.append(.init(name: name, type: GraphRecorder.type(t)))
        }
        names[ObjectIdentifier(t)] = name
        keepAlive.append(t)
        return name
    }

    /// Adds one op (from `Autograd.op`).
    public func record(op: String, inputs: [Tensor], output: Tensor, scope: UInt32) {
        guard onRecordingThread else { return }
        let inputNames = inputs.map(name(of:))
        for n in inputNames { consumed.insert(n) }
        counter += 1
        let result = "%\(counter)"
        names[ObjectIdentifier(output)] = result
        keepAlive.append(output)
        produced.append(result)
        let bypassed =
            inputs.lazy.compactMap(\.parameter).first { info in
                !info.owners.contains(where: SpanTracer.isActive(module:))
            }?.owners.first ?? 0
        graph.nodes.append(
            .init(
                op: op, output: .init(name: result, type: GraphRecorder.type(output)), inputs: inputNames,
                scope: scope, bypassOf: bypassed))
    }

    /// A module call (from the call wrapper), counted per caller and callee. The first call from
    /// outside any module sets the graph's mode (`train` or `eval`, and `no grad`), which
    /// decides which graphs may be compared.
    public func recordCall(caller: UInt32, callee: UInt32, training: Bool) {
        guard onRecordingThread else { return }
        if caller == 0 && graph.mode.isEmpty {
            graph.label += " (" + (training ? "train" : "eval") + (GradMode.isEnabled ? "" : ", no grad") + ")"
        }
        let key = UInt64(caller) << 32 | UInt64(callee)
        if let i = callIndex[key] {
            graph.calls[i].count += 1
        } else {
            callIndex[key] = graph.calls.count
            graph.calls.append(.init(caller: caller, callee: callee, count: 1))
        }
    }

    /// Ends recording: outputs are the values nothing else consumed.
    public func finish(outputs explicit: [Tensor]? = nil) -> StaticGraph {
        if let explicit {
            graph.outputs = explicit.map(name(of:))
        } else {
            graph.outputs = produced.filter { !consumed.contains($0) }
        }
        keepAlive.removeAll()
        names.removeAll()
        return graph
    }
}
