import Tensors

/// What a module takes and returns: a tensor, or a structure of tensors. The call
/// wrapper walks the tensors for shapes and backward hooks; hooks may replace them.
public protocol ModuleIO {
    /// Visits every tensor, in a fixed order.
    func forEachTensor(_ body: (Tensor) throws -> Void) rethrows
    /// The same structure with each tensor replaced, in `forEachTensor` order.
    func mapTensors(_ transform: (Tensor) throws -> Tensor) rethrows -> Self
}

extension Tensor: ModuleIO {
    /// Calls `body` with the tensor.
    public func forEachTensor(_ body: (Tensor) throws -> Void) rethrows { try body(self) }
    /// The tensor, transformed.
    public func mapTensors(_ transform: (Tensor) throws -> Tensor) rethrows -> Tensor { try transform(self) }
}

extension Optional: ModuleIO where Wrapped: ModuleIO {
    /// Calls `body` with the wrapped value's tensors, if any.
    public func forEachTensor(_ body: (Tensor) throws -> Void) rethrows { try self?.forEachTensor(body) }
    /// The wrapped value with its tensors transformed, or nil.
    public func mapTensors(_ transform: (Tensor) throws -> Tensor) rethrows -> Wrapped? {
        try self.map { try $0.mapTensors(transform) }
    }
}

extension Array: ModuleIO where Element: ModuleIO {
    /// Calls `body` with every element's tensors, in order.
    public func forEachTensor(_ body: (Tensor) throws -> Void) rethrows {
        for element in self { try element.forEachTensor(body) }
    }
    /// Every element with its tensors transformed.
    public func mapTensors(_ transform: (Tensor) throws -> Tensor) rethrows -> [Element] {
        try map { try $0.mapTensors(transform) }
    }
}

/// Two values through one wrapper: `(logits, targets)` into a loss, a block returning two tensors.
public struct Pair<First: ModuleIO, Second: ModuleIO>: ModuleIO {
    /// The first value.
    public var first: First
    /// The second value.
    public var second: Second

    /// A pair of values (a module with two inputs or outputs).
    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    /// Calls `body` with the first value's tensors, then the second's.
    public func forEachTensor(_ body: (Tensor) throws -> Void) rethrows {
        try first.forEachTensor(body)
        try second.forEachTensor(body)
    }

    /// The pair with both values' tensors transformed.
    public func mapTensors(_ transform: (Tensor) throws -> Tensor) rethrows -> Pair {
        Pair(try first.mapTensors(transform), try second.mapTensors(transform))
    }
}

extension ModuleIO {
    /// The tensors, in order.
    public var tensors: [Tensor] {
        var all: [Tensor] = []
        forEachTensor { all.append($0) }
        return all
    }

    /// `[64,784];[64]`.
    public var shapeDescription: String { tensors.map { Tensor.format($0.shape) }.joined(separator: ";") }
}
