import CTracing
import Tensors
import TraceEvents
import TraceRuntime

/// Describes module trees to the tracer: paths, types, parents, parameter counts,
/// registered hooks, and which modules own each parameter (for bypass signature 1).
@usableFromInline package enum TraceDefinitions {
    /// Describes the tree `module` belongs to unless it was described in the current session.
    @inlinable @usableFromInline package static func ensureDefined(_ module: AnyModule) {
        if module.definedEpoch != ct_get_epoch() { describeFirstCall(of: module) }
    }

    /// The first traced call of `module` in a session: describes the tree that holds it (found
    /// among the live modules, so paths are right without `watch`), and reports a module that
    /// runs inside another module's wrapper although no tree holds it.
    @usableFromInline package static func describeFirstCall(of module: AnyModule) {
        guard let session = Tracer.current else { return }
        let root = ModuleRoster.root(of: module)
        define(root: root)
        guard root === module, TraceFlags.current.contains(.bypass), SpanTracer.canJudgeThread else { return }
        let caller = SpanTracer.innermostModule
        if caller != 0 {
            // A layer created in `forward` is a new module on every call: count them all under the first.
            let first = session.findings.firstUnregistered(type: module.typeName, caller: caller, module: module.traceID)
            session.findings.report(module: first, caller: caller, evidence: .unregistered, step: TraceSession.step)
        }
    }

    /// One module of a tree walk, with its children's positions.
    private struct Node {
        let module: AnyModule
        let path: String
        let parent: UInt32
        /// The nearest ancestor whose wrapper must be active around this module's (see
        /// `AnyModule.wrapperParent`).
        var wrapperParent: UInt32
        let parameters: [(name: String, tensor: Tensor)]
        var children: [Int] = []
    }

    /// Describes the tree under `root`, with `root` as a root (empty path). Each module's
    /// children and parameters are reflected once (a 10,000-module tree takes one walk).
    @usableFromInline package static func define(root: AnyModule) {
        guard let session = Tracer.current else { return }
        let epoch = session.epoch
        var nodes: [Node] = []
        var index: [ObjectIdentifier: Int] = [:]
        var shared = false
        func visit(_ module: AnyModule, path: String, parent: UInt32, wrapperParent: UInt32) -> Int {
            if let known = index[ObjectIdentifier(module)] {
                shared = true
                nodes[known].wrapperParent = UInt32.max  // several parents: any of them may call it
                return known
            }
            let i = nodes.count
            index[ObjectIdentifier(module)] = i
            nodes.append(
                Node(
                    module: module, path: path, parent: parent, wrapperParent: wrapperParent,
                    parameters: module.directTensors(parameters: true)))
            let childrensWrapperParent = module.childrenMayRunAlone ? wrapperParent : module.traceID
            for (name, child) in module.children {
                let c = visit(
                    child, path: path.isEmpty ? name : "\(path).\(name)", parent: module.traceID,
                    wrapperParent: childrensWrapperParent)
                nodes[i].children.append(c)
            }
            return i
        }
        _ = visit(root, path: "", parent: 0, wrapperParent: 0)

        // Owners of each parameter, and its name where the walk first meets it (pre-order, as
        // `namedParameters`).
        var owners: [ObjectIdentifier: (tensor: Tensor, name: String, modules: [UInt32], builtIn: Bool)] = [:]
        for node in nodes {
            for (name, t) in node.parameters {
                let id = ObjectIdentifier(t)
                if owners[id] == nil {
                    owners[id] = (t, node.path.isEmpty ? name : "\(node.path).\(name)", [], true)
                } else {
                    shared = true
                }
                owners[id]!.modules.append(node.module.traceID)
                owners[id]!.builtIn = owners[id]!.builtIn && node.module.isBuiltIn
            }
        }
        for (_, entry) in owners {
            entry.tensor.parameter = ParameterInfo(path: entry.name, owners: entry.modules, ownersCheckThemselves: entry.builtIn)
        }

        // Parameters in each subtree: summed bottom-up, or counted with de-duplication when
        // modules or tensors are shared (tied weights, a module registered twice).
        var totals = [Int](repeating: 0, count: nodes.count)
        for i in stride(from: nodes.count - 1, through: 0, by: -1) {
            if shared {
                var seen = Set<ObjectIdentifier>()
                var visited = Set<Int>()
                var stack = [i]
                while let j = stack.popLast() {
                    guard visited.insert(j).inserted else { continue }
                    for (_, t) in nodes[j].parameters where seen.insert(ObjectIdentifier(t)).inserted { totals[i] += t.count }
                    stack += nodes[j].children
                }
            } else {
                totals[i] =
                    nodes[i].parameters.reduce(0) { $0 + $1.tensor.count }
                    + nodes[i].children.reduce(0) { $0 + totals[$1] }
            }
        }
        var infos: [ModuleInfo] = []
        infos.reserveCapacity(nodes.count)
        for (i, node) in nodes.enumerated() {
            let m = node.module
            infos.append(
                ModuleInfo(
                    id: m.traceID, path: node.path, type: m.typeName, parent: node.parent,
                    directParameters: node.parameters.reduce(0) { $0 + $1.tensor.count }, totalParameters: totals[i],
                    hooks: m.registeredHookKinds, isBuiltIn: m.isBuiltIn, isContainer: !(m is any CallableModule)))
            infos[i].wrapperParent = node.wrapperParent
            infos[i].root = root.traceID
            m.wrapperParent = node.wrapperParent
            m.tracedModeDependent = m.isModeDependent
            m.definedEpoch = epoch
        }
        session.modules.define(infos)
    }
}
