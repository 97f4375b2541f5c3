import CTracing
import Tensors
import Tracing

/// Describes module trees to the tracer: paths, types, parents, parameter counts,
/// registered hooks, and which modules own each parameter (for bypass signature 1).
public enum TraceDefinitions {
    /// Describes `module`'s tree unless it was described in the current session.
    @inlinable public static func ensureDefined(_ module: AnyModule) {
        if module.definedEpoch != ct_get_epoch() { define(root: module) }
    }

    /// Describes the tree under `root`, with `root` as a root (empty path).
    public static func define(root: AnyModule) {
        let epoch = ct_get_epoch()
        let modules = root.namedModules()
        var parent: [ObjectIdentifier: UInt32] = [:]
        var owners: [ObjectIdentifier: [UInt32]] = [:]
        var infos: [ModuleInfo] = []
        for (_, module) in modules {
            for (_, child) in module.children where parent[ObjectIdentifier(child)] == nil {
                parent[ObjectIdentifier(child)] = module.traceID
            }
            for (_, t) in module.directTensors(parameters: true) {
                owners[ObjectIdentifier(t), default: []].append(module.traceID)
            }
        }
        for (path, module) in modules {
            let direct = module.directTensors(parameters: true).reduce(0) { $0 + $1.tensor.count }
            infos.append(ModuleInfo(
                id: module.traceID, path: path, type: module.typeName,
                parent: module === root ? 0 : parent[ObjectIdentifier(module)] ?? 0,
                directParameters: direct, totalParameters: module.parameterCount,
                hooks: module.registeredHookKinds, isBuiltIn: module.isBuiltIn, isContainer: !(module is any CallableModule)))
            module.definedEpoch = epoch
        }
        for (path, t) in root.namedParameters() {
            t.parameter = ParameterInfo(path: path, owners: owners[ObjectIdentifier(t)] ?? [])
        }
        ModuleRegistry.shared.define(infos)
    }
}
