import Foundation
import Tensors

/// A module whose tensors PyTorch's matching `torch.nn` module names differently from its
/// Swift properties. Keys are dotted paths relative to the module (`runningMean`,
/// `qkv.weight`, or a child's name such as `projection`); values are PyTorch's names.
/// A key that is a child's name renames everything under it.
public protocol StateDictNaming: AnyObject {
    /// Swift name (or dotted path) to PyTorch name.
    var stateDictNames: [String: String] { get }
}

/// Saving and loading parameters and buffers as a PyTorch state dict in the safetensors
/// layout: `model.load_state_dict(safetensors.torch.load_file(path))` loads what `save(to:)`
/// writes into a PyTorch model of the same structure, and `load(from:)` reads what
/// `safetensors.torch.save_file(model.state_dict(), path)` writes.
extension AnyModule {
    /// Parameters and buffers under PyTorch's state-dict names, in PyTorch's order (a module's
    /// own tensors, then its children's). Tied tensors appear under every name, as in PyTorch.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        var result: [(name: String, tensor: Tensor)] = []
        let names = (self as? StateDictNaming)?.stateDictNames ?? [:]
        func rename(_ path: String) -> String {
            if let exact = names[path] { return exact }
            guard let dot = path.firstIndex(of: "."), let head = names[String(path[..<dot])] else { return path }
            return head + path[dot...]
        }
        for (name, tensor) in directTensors(parameters: true) + directTensors(parameters: false) {
            result.append((rename(name), tensor))
        }
        for (childName, child) in children {
            for (name, tensor) in child.stateDict() { result.append((rename("\(childName).\(name)"), tensor)) }
        }
        return result
    }

    /// Writes the state dict to `url` (float tensors as F32, index tensors such as BatchNorm's
    /// `num_batches_tracked` as I64, as PyTorch stores them).
    public func save(to url: URL) throws {
        try SafeTensors.write(stateDict(), to: url, metadata: ["format": "pt", "producer": "tracewell"], indexDType: .i64)
    }

    /// Copies every tensor of the state dict from the safetensors file at `url`, in place (an
    /// optimizer holding the parameters keeps working). Every key must be present with this
    /// model's shape and, with `strict` (the default, as `load_state_dict`), the file may hold no
    /// other tensors; F16, BF16 and I64 are converted. Throws one line naming the key.
    public func load(from url: URL, strict: Bool = true) throws {
        let file: SafeTensorsFile
        do { file = try SafeTensors.read(url) } catch let error as SafeTensorsError { throw StateError(error.description) }
        try load(file, strict: strict)
    }

    /// Copies every tensor of the state dict from `file` (see `load(from:strict:)`).
    public func load(_ file: SafeTensorsFile, strict: Bool = true) throws {
        let state = stateDict()
        if strict {
            let known = Set(state.map(\.name))
            if let unexpected = file.names.first(where: { !known.contains($0) }) {
                throw StateError(
                    "\(file.path): unexpected tensor '\(unexpected)' (this model has no such key; load with strict: false to ignore it)")
            }
        }
        // Check everything before changing anything.
        for (name, tensor) in state {
            guard let source = file.tensors[name] else { throw StateError("\(file.path): no tensor named '\(name)'") }
            let kind = { (t: Tensor) in t.dtype == .float32 ? "float" : "integer" }
            guard source.shape == tensor.shape, source.dtype == tensor.dtype else {
                throw StateError(
                    "\(file.path): '\(name)' is \(file.dtypes[name]?.rawValue ?? "?") \(Tensor.format(source.shape)), "
                        + "expected \(kind(tensor)) \(Tensor.format(tensor.shape))")
            }
        }
        for (name, tensor) in state {
            precondition(tensor.isContiguous, "state tensors are contiguous")
            let source = file.tensors[name]!
            tensor.storage.base.advanced(by: tensor.offset * 4).copyMemory(from: source.storage.base, byteCount: tensor.count * 4)
        }
    }
}

/// A state file that cannot be loaded into this model.
public struct StateError: Error, CustomStringConvertible {
    /// The one-line message.
    public let description: String
    init(_ description: String) { self.description = description }
}
