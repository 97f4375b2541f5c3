import Synchronization
import TraceEvents
import TraceRuntime

/// Element type of a tensor. Index tensors (embedding ids, class targets) are int32.
public enum DType: Sendable, Equatable {
    case float32, int32

    var code: DTypeCode { self == .float32 ? .float32 : .int32 }
}

/// A strided n-dimensional array of float32 (or int32 indices) with reverse-mode autograd.
///
/// Tensors have reference semantics like PyTorch's: views (reshape, transpose,
/// slicing) share storage. Ops never modify their inputs.
public final class Tensor {
    /// The dims, outermost first (`[]` for a scalar).
    public let shape: [Int]
    /// Per-axis steps through the storage, in elements (0 on broadcast axes).
    public let strides: [Int]
    /// Offset of element 0 in the storage, in elements.
    public let offset: Int
    /// The memory holding the elements, shared with views.
    public let storage: Storage
    /// The element type.
    public let dtype: DType

    /// Whether gradients flow to this tensor. Parameters set it; ops propagate it.
    public var requiresGrad: Bool
    /// The accumulated gradient of a leaf after `backward()`.
    public var grad: Tensor?
    /// How this tensor was computed, when it needs a gradient and is not a leaf.
    public internal(set) var gradNode: GradNode?
    /// Set on module parameters: their dotted name and the modules that own them.
    public var parameter: ParameterInfo? {
        didSet {
            judgedOwner = parameter.map { $0.ownersCheckThemselves ? 0 : $0.owners.first ?? 0 } ?? 0
        }
    }
    /// The first owner of a parameter whose reads the bypass detector judges (a parameter of a
    /// user module), 0 for every other tensor: what the per-op check reads, one load without
    /// reference counting or an exclusivity check. (Written only with `parameter`, when a tree
    /// is described to a session; a racing read sees the old or the new owner of the same tree.)
    @exclusivity(unchecked) @usableFromInline final var judgedOwner: UInt32 = 0
    /// The trace session (high 32 bits) and the interned id of this tensor's shape in it (see
    /// `traceShapeID`): a module's output is the next module's input, and its shape is interned once.
    @usableFromInline let shapeMemo = Atomic<UInt64>(0)
    /// Called with this tensor's gradient during backward (see `registerGradientHook`).
    var gradientHooks: [GradientHook]?

    /// Calls `hook` with this tensor's gradient when backward reaches it; a non-nil
    /// return replaces the gradient that flows on.
    public func registerGradientHook(_ hook: @escaping GradientHook) {
        gradientHooks = (gradientHooks ?? []) + [hook]
    }
    /// Called on a leaf once backward accumulated its gradient into `grad`.
    var postAccumulateHooks: [(Tensor) -> Void]?

    /// Calls `hook` with this leaf after backward accumulated its gradient into `grad` (PyTorch's
    /// `register_post_accumulate_grad_hook`): as soon as every op that read it got its
    /// gradient, not at the end of backward, so work on the gradient can overlap the rest.
    public func registerPostAccumulateGradHook(_ hook: @escaping (Tensor) -> Void) {
        postAccumulateHooks = (postAccumulateHooks ?? []) + [hook]
    }

    init(storage: Storage, shape: [Int], strides: [Int], offset: Int, dtype: DType = .float32) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
        requiresGrad = false
    }

    /// A new uninitialized contiguous tensor.
    init(uninitialized shape: [Int], dtype: DType = .float32) {
        let count = Shape.count(shape)
        storage = Storage(byteCount: count * 4)
        self.shape = shape
        strides = Shape.contiguousStrides(shape)
        offset = 0
        self.dtype = dtype
        requiresGrad = false
    }

    /// A tensor holding `values` (row-major) with `shape`.
    public convenience init(_ values: [Float], shape: [Int]) {
        precondition(
            values.count == Shape.count(shape),
            "Tensor: \(values.count) values do not fill shape \(Tensor.format(shape))")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { floats.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A 1-D tensor.
    public convenience init(_ values: [Float]) { self.init(values, shape: [values.count]) }

    /// An int32 index tensor (embedding ids, class targets).
    public convenience init(indices: [Int32], shape: [Int]) {
        precondition(
            indices.count == Shape.count(shape),
            "Tensor: \(indices.count) indices do not fill shape \(Tensor.format(shape))")
        self.init(uninitialized: shape, dtype: .int32)
        indices.withUnsafeBufferPointer { ints.update(from: $0.baseAddress!, count: indices.count) }
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(uninitialized: shape)
        floats.update(repeating: value, count: count)
    }

    /// A float32 tensor of zeros (`torch.zeros`).
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// A float32 tensor of ones (`torch.ones`).
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }
    /// A rank-0 tensor (shape `[]`) holding `value`.
    public static func scalar(_ value: Float) -> Tensor { Tensor([value], shape: []) }

    /// Normal(0, std) samples from `generator`.
    public static func randn(_ shape: [Int], std: Float = 1, using generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitialized: shape)
        let p = t.floats
        for i in 0..<t.count { p[i] = generator.normal() * std }
        return t
    }

    /// Uniform samples in `range` from `generator`.
    public static func uniform(
        _ shape: [Int], in range: ClosedRange<Float>,
        using generator: inout RandomGenerator
    ) -> Tensor {
        let t = Tensor(uninitialized: shape)
        let p = t.floats
        let width = range.upperBound - range.lowerBound
        for i in 0..<t.count { p[i] = range.lowerBound + width * generator.unit() }
        return t
    }

    /// A parameter: a leaf that requires gradients.
    public func asParameter() -> Tensor {
        requiresGrad = true
        return self
    }

    // MARK: Geometry

    /// The number of axes (`dim()` in PyTorch).
    public var rank: Int { shape.count }
    /// The number of elements (`numel()` in PyTorch).
    public var count: Int { Shape.count(shape) }
    /// The size of the elements, in bytes (4 per element).
    public var byteCount: Int { count * 4 }
    /// Whether the elements are laid out row-major without gaps (`is_contiguous()`).
    public var isContiguous: Bool { strides == Shape.contiguousStrides(shape) }

    /// Element 0 of a float tensor.
    public var floats: UnsafeMutablePointer<Float> {
        storage.base.assumingMemoryBound(to: Float.self) + offset
    }

    /// Element 0 of an int32 tensor.
    public var ints: UnsafeMutablePointer<Int32> {
        storage.base.assumingMemoryBound(to: Int32.self) + offset
    }

    /// This tensor, or a contiguous copy of it.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitialized: shape, dtype: dtype)
        Kernels.copyStrided(from: self, to: out.floats)
        return Autograd.record("contiguous", [self], out) { g, _ in [g] }
    }

    /// A tensor sharing this one's storage with no autograd history.
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// The values in row-major order.
    public var scalars: [Float] {
        let c = contiguousStorageTensor
        if dtype == .int32 { return (0..<count).map { Float(c.ints[$0]) } }
        return Array(UnsafeBufferPointer(start: c.floats, count: count))
    }

    /// The index values of an int32 tensor, row-major.
    public var indexScalars: [Int32] {
        let c = contiguousStorageTensor
        if dtype == .float32 { return (0..<count).map { Int32(c.floats[$0]) } }
        return Array(UnsafeBufferPointer(start: c.ints, count: count))
    }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item: tensor has shape \(Tensor.format(shape)), not one element")
        return dtype == .int32 ? Float(ints[0]) : floats[0]
    }

    var contiguousStorageTensor: Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitialized: shape, dtype: dtype)
        Kernels.copyStrided(from: self, to: out.floats)
        return out
    }

    /// `[64,784]`.
    public static func format(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ",") + "]"
    }
}

extension Tensor: CustomStringConvertible {
    /// `Tensor([2,3], float32)`, with the values when there are at most 8.
    public var description: String {
        let values = count <= 8 ? " " + scalars.map { "\($0)" }.joined(separator: ", ") : ""
        return "Tensor(\(Tensor.format(shape)), \(dtype)\(values))"
    }
}

/// What a module tree says about a parameter tensor. A class, so that the per-op bypass
/// check reads one reference instead of copying a string and an array.
public final class ParameterInfo: Sendable {
    /// Dotted name from the root (`fc1.weight`).
    public let path: String
    /// Trace ids of every module that holds it (several when weights are tied).
    public let owners: [UInt32]
    /// True when every owner is a built-in layer, whose `forward` checks its own wrapper: a read
    /// of such a parameter elsewhere is functional use (a tied language-model head), never
    /// evidence of a bypass.
    public let ownersCheckThemselves: Bool

    /// What the tracer knows of a parameter held by `owners`.
    public init(path: String, owners: [UInt32], ownersCheckThemselves: Bool = false) {
        self.path = path
        self.owners = owners
        self.ownersCheckThemselves = ownersCheckThemselves
    }
}
