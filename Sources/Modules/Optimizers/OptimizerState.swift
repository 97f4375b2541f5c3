import Foundation
import Tensors

/// Saving and loading an optimizer's state, so that training resumed from a checkpoint
/// continues exactly as if it had not stopped. The file is safetensors with torch's names:
/// `state.<i>.<name>` per parameter index `i` (`state.0.exp_avg`, `state.3.momentum_buffer`,
/// `state.0.step`) and `param_groups.0.lr`.
extension Optimizer {
    /// The state of every parameter that has some, and the learning rate.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        var result: [(name: String, tensor: Tensor)] = [("param_groups.0.lr", .scalar(learningRate))]
        for index in parameters.indices {
            for (name, tensor) in state(of: index).sorted(by: { $0.key < $1.key }) { result.append(("state.\(index).\(name)", tensor)) }
        }
        return result
    }

    /// Writes `stateDict()` to `url`.
    public func save(to url: URL) throws {
        try SafeTensors.write(stateDict(), to: url, metadata: ["optimizer": typeName, "parameters": "\(parameters.count)"])
    }

    /// Restores the state written by `save(to:)` from an optimizer of the same kind over
    /// parameters of the same shapes; parameters without state in the file start afresh.
    public func load(from url: URL) throws {
        let file: SafeTensorsFile
        do { file = try SafeTensors.read(url) } catch let error as SafeTensorsError { throw StateError(error.description) }
        if let kind = file.metadata["optimizer"], kind != typeName {
            throw StateError("\(file.path): state of a \(kind), not of a \(typeName)")
        }
        if let count = file.metadata["parameters"], count != "\(parameters.count)" {
            throw StateError("\(file.path): state of \(count) parameters, this \(typeName) has \(parameters.count)")
        }
        var perParameter = [[String: Tensor]](repeating: [:], count: parameters.count)
        for (name, tensor) in file.tensors where name.hasPrefix("state.") {
            let parts = name.split(separator: ".", maxSplits: 2)
            guard parts.count == 3, let index = Int(parts[1]), parameters.indices.contains(index) else {
                throw StateError("\(file.path): '\(name)' names no parameter of this \(typeName)")
            }
            perParameter[index][String(parts[2])] = tensor
        }
        for (index, state) in perParameter.enumerated() {
            do { try restoreState(of: index, state) } catch let error as StateError {
                throw StateError("\(file.path): parameter \(index): \(error.description)")
            }
        }
        if let lr = file.tensors["param_groups.0.lr"] { learningRate = lr.item }
    }
}

/// Helpers for `restoreState(of:_:)`.
package enum OptimizerState {
    /// A copy of `state[name]`, which must have `parameter`'s shape.
    package static func tensor(_ state: [String: Tensor], _ name: String, like parameter: Tensor) throws -> Tensor {
        guard let t = state[name] else { throw StateError("no '\(name)'") }
        guard t.shape == parameter.shape, t.dtype == .float32 else {
            throw StateError("'\(name)' has shape \(Tensor.format(t.shape)), expected \(Tensor.format(parameter.shape))")
        }
        return t.copy()
    }

    /// Copies `state[name]` into `target` (same shape).
    package static func copy(_ state: [String: Tensor], _ name: String, into target: Tensor) throws {
        let t = try tensor(state, name, like: target)
        target.floats.update(from: t.floats, count: t.count)
    }

    /// The per-parameter step count.
    package static func step(_ state: [String: Tensor]) throws -> Int {
        guard let t = state["step"], t.count == 1, t.item >= 0, t.item == t.item.rounded() else { throw StateError("no valid 'step'") }
        return Int(t.item)
    }
}
