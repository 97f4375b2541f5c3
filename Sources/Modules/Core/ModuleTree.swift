import Tensors

/// Children, parameters and buffers, found by reflecting over stored properties the
/// way PyTorch finds attributes: a property holding a module (or an array of modules)
/// is a child; a tensor that requires gradients is a parameter, any other tensor a buffer.
extension AnyModule {
    /// Stored properties of this object, base class first.
    var storedProperties: [(label: String, value: Any)] {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        return mirrors.reversed().flatMap { m in
            m.children.compactMap { child in
                guard let label = child.label, !label.hasPrefix("$__lazy_storage_$_") else { return nil }
                return (label, child.value)
            }
        }
    }

    /// Named tensors held directly, with `requiresGrad` selecting parameters or buffers.
    func directTensors(parameters: Bool) -> [(name: String, tensor: Tensor)] {
        storedProperties.flatMap { label, value -> [(name: String, tensor: Tensor)] in
            if let t = value as? Tensor { return t.requiresGrad == parameters ? [(label, t)] : [] }
            if let list = value as? [Tensor] {
                return list.enumerated().filter { $0.element.requiresGrad == parameters }.map { ("\(label).\($0.offset)", $0.element) }
            }
            return []
        }
    }

    /// Every module in the tree with its dotted path (the root's is empty), pre-order,
    /// each module once even when it is registered in several places.
    public func namedModules() -> [(path: String, module: AnyModule)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(path: String, module: AnyModule)] = []
        func visit(_ m: AnyModule, _ path: String) {
            guard seen.insert(ObjectIdentifier(m)).inserted else { return }
            result.append((path, m))
            for (name, child) in m.children { visit(child, path.isEmpty ? name : "\(path).\(name)") }
        }
        visit(self, "")
        return result
    }

    /// Every parameter with its dotted path, each tensor once (tied weights appear under their first name).
    public func namedParameters() -> [(path: String, tensor: Tensor)] { namedTensors(parameters: true) }

    /// Non-trainable state (BatchNorm running statistics), with dotted paths.
    public func namedBuffers() -> [(path: String, tensor: Tensor)] { namedTensors(parameters: false) }

    /// Every parameter in the tree, in `namedParameters()` order (tied weights once).
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Number of trainable scalars in the tree.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    private func namedTensors(parameters: Bool) -> [(path: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        return namedModules().flatMap { path, module in
            module.directTensors(parameters: parameters).compactMap { name, t in
                guard seen.insert(ObjectIdentifier(t)).inserted else { return nil }
                return (path.isEmpty ? name : "\(path).\(name)", t)
            }
        }
    }

    /// The name under which `child` is registered here, if it is.
    func name(of child: ObjectIdentifier) -> String? {
        children.first { ObjectIdentifier($0.module) == child }?.name
    }

    /// The module tree, printed like PyTorch's `print(model)`.
    public var treeDescription: String {
        let kids = children
        let head = "\(typeName)(\(extraDescription)"
        if kids.isEmpty { return head + ")" }
        let lines = kids.map { name, module in
            "  (\(name)): " + module.treeDescription.replacingOccurrences(of: "\n", with: "\n  ")
        }
        return head + "\n" + lines.joined(separator: "\n") + "\n)"
    }

    /// The Swift type name (`Linear`).
    public var typeName: String { String(describing: type(of: self)) }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
