import Tensors

/// Root-mean-square normalization over the trailing axes `normalizedShape`
/// (`torch.nn.RMSNorm`): `x / √(mean(x²) + eps) · weight`. `eps` nil uses float32's machine
/// epsilon, as PyTorch does.
open class RMSNorm: Module<Tensor, Tensor> {
    /// The trailing axes normalized over.
    public let normalizedShape: [Int]
    /// Added to the mean square; nil uses float32's machine epsilon.
    public let eps: Float?
    /// Shaped `normalizedShape`; nil with `elementwiseAffine: false`.
    public var weight: Tensor?

    /// Normalizes over trailing axes `normalizedShape`, with a learned scale (initially ones) unless `elementwiseAffine` is false.
    public init(normalizedShape: [Int], eps: Float? = nil, elementwiseAffine: Bool = true) {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Tensor.ones(normalizedShape).asParameter() : nil
        super.init()
    }

    /// Normalizes over the last axis of size `features`.
    public convenience init(_ features: Int, eps: Float? = nil, elementwiseAffine: Bool = true) {
        self.init(normalizedShape: [features], eps: eps, elementwiseAffine: elementwiseAffine)
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        let k = normalizedShape.count
        guard x.rank >= k, Array(x.shape.suffix(k)) == normalizedShape else {
            throw TensorError("rms_norm", [x.shape], "expected trailing axes \(Tensor.format(normalizedShape))")
        }
        let meanSquare = try (x * x).mean(axes: Array((x.rank - k)..<x.rank), keepDims: true)
        let y = try x * (meanSquare + (eps ?? Float.ulpOfOne)).pow(-0.5)
        return try weight.map { try y * $0 } ?? y
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String {
        "(\(normalizedShape.map(String.init).joined(separator: ", ")),), eps=\(eps.map { "\($0)" } ?? "None"), elementwise_affine=\(weight != nil ? "True" : "False")"
    }
}

/// Group normalization of `[N, C, ...]` (`torch.nn.GroupNorm`): the channels split into
/// `groups` groups, each normalized over its channels and positions, then a per-channel
/// scale and shift.
open class GroupNorm: Module<Tensor, Tensor> {
    /// The number of groups the channels are split into.
    public let groups: Int
    /// The number of channels `C` (divisible by `groups`).
    public let channels: Int
    /// Added to the variance for numerical stability.
    public let eps: Float
    /// `[C]`; nil with `affine: false`.
    public var weight: Tensor?
    /// `[C]`, initially zeros; nil with `affine: false`.
    public var bias: Tensor?

    /// Normalizes `channels` channels in `groups` groups, with a per-channel scale (ones) and shift (zeros) unless `affine` is false.
    public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(channels) channels are not divisible into \(groups) groups")
        (self.groups, self.channels, self.eps) = (groups, channels, eps)
        if affine {
            weight = Tensor.ones([channels]).asParameter()
            bias = Tensor.zeros([channels]).asParameter()
        }
        super.init()
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        guard x.rank >= 2, x.shape[1] == channels else {
            throw TensorError("group_norm", [x.shape], "expected [N, \(channels), ...]")
        }
        let grouped = try x.reshaped([x.shape[0], groups, x.count / (x.shape[0] * groups)])
        var y = try Tensor.layerNorm(grouped, gamma: nil, beta: nil, eps: eps).reshaped(x.shape)
        let perChannel = [channels] + Array(repeating: 1, count: x.rank - 2)
        if let weight { y = try y * weight.reshaped(perChannel) }
        if let bias { y = try y + bias.reshaped(perChannel) }
        return y
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "\(groups), \(channels), eps=\(eps), affine=\(weight != nil ? "True" : "False")" }
}
