import Tensors

/// 2-D convolution over `[N, C, H, W]` (PyTorch's `nn.Conv2d`): kernel, stride, padding and
/// dilation per axis (`3` or `[3, 5]`), `padding: .same` or `.valid`, and `groups`
/// (`groups: C` with `C` output channels per group multiple is depthwise).
open class Conv2d: Module<Tensor, Tensor> {
    /// Input channels `C`, output channels `O`, and groups (both divisible by `groups`).
    public let inChannels, outChannels, groups: Int
    /// Kernel size, stride and dilation, per axis.
    public let kernelSize, stride, dilation: Size2
    /// Explicit per-axis padding, `.valid` or `.same`.
    public let padding: ConvPadding
    /// `[out, in / groups, kh, kw]`.
    public var weight: Tensor
    /// `[out]`, or nil with `bias: false`.
    public var bias: Tensor?

    /// A convolution from `inChannels` to `outChannels`; weights and bias uniform in ±1/√fanIn like PyTorch's.
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Size2, stride: Size2 = 1, padding: ConvPadding = 0,
        dilation: Size2 = 1, groups: Int = 1, bias: Bool = true
    ) {
        precondition(
            groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
            "Conv2d: \(inChannels) in and \(outChannels) out channels are not divisible by groups \(groups)")
        (self.inChannels, self.outChannels, self.kernelSize, self.groups) = (inChannels, outChannels, kernelSize, groups)
        (self.stride, self.padding, self.dilation) = (stride, padding, dilation)
        let fanIn = inChannels / groups * kernelSize.height * kernelSize.width
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Random.withGenerator {
            Tensor.uniform([outChannels, inChannels / groups, kernelSize.height, kernelSize.width], in: -bound...bound, using: &$0)
        }.asParameter()
        self.bias =
            bias
            ? Random.withGenerator { Tensor.uniform([outChannels], in: -bound...bound, using: &$0) }
                .asParameter() : nil
        super.init()
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String {
        var text = "\(inChannels), \(outChannels), kernel_size=\(kernelSize), stride=\(stride)"
        switch padding {
        case .explicit(let p): if p != 0 { text += ", padding=\(p)" }
        default: text += ", padding=\(padding)"
        }
        if dilation != 1 { text += ", dilation=\(dilation)" }
        if groups != 1 { text += ", groups=\(groups)" }
        return text + (bias == nil ? ", bias=False" : "")
    }
}

/// 2-D pooling (`nn.MaxPool2d`, `nn.AvgPool2d`): kernel, stride and padding per axis
/// (`2` or `[2, 3]`; the stride defaults to the kernel) and `ceilMode`. Subclasses say which.
open class Pool2d: Module<Tensor, Tensor> {
    /// Window size, stride and padding, per axis.
    public let kernelSize, stride, padding: Size2
    /// Whether the output size rounds up (partial windows at the end count), as PyTorch's `ceil_mode`.
    public let ceilMode: Bool

    /// Pooling over `kernelSize` windows; the stride defaults to the kernel size.
    public init(_ kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, ceilMode: Bool = false) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
        super.init()
    }

    /// The pooling itself.
    open func pool(_ x: Tensor) throws -> Tensor { x }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try pool(x)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String {
        func show(_ s: Size2) -> String { s.height == s.width ? "\(s.height)" : "\(s)" }
        return "kernel_size=\(show(kernelSize)), stride=\(show(stride)), padding=\(show(padding)), ceil_mode=\(ceilMode ? "True" : "False")"
    }
}

/// Max pooling; ties send the gradient to the first maximum, as PyTorch.
open class MaxPool2d: Pool2d {
    open override func pool(_ x: Tensor) throws -> Tensor {
        try x.maxPool2d(kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }
}

/// Average pooling; `countIncludePad` says whether padded positions count in the divisor.
open class AvgPool2d: Pool2d {
    /// Whether padded positions count in the divisor (PyTorch's `count_include_pad`).
    public let countIncludePad: Bool

    /// Average pooling over `kernelSize` windows; the stride defaults to the kernel size.
    public init(_ kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.countIncludePad = countIncludePad
        super.init(kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }

    open override func pool(_ x: Tensor) throws -> Tensor {
        try x.avgPool2d(kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
}

/// Average pooling to a fixed output size whatever the input's (`nn.AdaptiveAvgPool2d`).
open class AdaptiveAvgPool2d: Module<Tensor, Tensor> {
    /// The output's height and width.
    public let outputSize: Size2

    /// Pools any `[N, C, H, W]` input to `[N, C, outputSize.height, outputSize.width]`.
    public init(_ outputSize: Size2) {
        self.outputSize = outputSize
        super.init()
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try x.adaptiveAvgPool2d(outputSize)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "output_size=\(outputSize)" }
}

/// Flattens axes `startAxis...endAxis` into one (default: everything but the batch), as
/// `torch.nn.Flatten(start_dim, end_dim)`; negative axes count from the end.
open class Flatten: Module<Tensor, Tensor> {
    /// The first axis flattened; negative counts from the end.
    public let startAxis: Int
    /// The last axis flattened (inclusive); negative counts from the end.
    public let endAxis: Int

    /// Flattens `startAxis...endAxis` (by default all but the batch axis).
    public init(startAxis: Int = 1, endAxis: Int = -1) {
        self.startAxis = startAxis
        self.endAxis = endAxis
        super.init()
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        let rank = max(x.rank, 1)
        let (start, end) = (startAxis < 0 ? startAxis + rank : startAxis, endAxis < 0 ? endAxis + rank : endAxis)
        guard 0 <= start, start <= end, end < rank else {
            throw TensorError("flatten", [x.shape], "axes \(startAxis)...\(endAxis) out of range or out of order")
        }
        if x.rank == 0 { return try x.reshaped([1]) }
        let merged = x.shape[start...end].reduce(1, *)
        return try x.reshaped(Array(x.shape[..<start]) + [merged] + Array(x.shape[(end + 1)...]))
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "start_dim=\(startAxis), end_dim=\(endAxis)" }
}
