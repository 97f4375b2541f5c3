import Tensors

/// 2-D convolution over `[N, C, H, W]` (PyTorch's `nn.Conv2d`).
open class Conv2d: Module<Tensor, Tensor> {
    public let inChannels, outChannels, kernelSize, stride, padding: Int
    /// `[out, in, k, k]`.
    public var weight: Tensor
    public var bias: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true) {
        (self.inChannels, self.outChannels, self.kernelSize) = (inChannels, outChannels, kernelSize)
        (self.stride, self.padding) = (stride, padding)
        let bound = 1 / Float(inChannels * kernelSize * kernelSize).squareRoot()
        weight = Random.withGenerator {
            Tensor.uniform([outChannels, inChannels, kernelSize, kernelSize], in: -bound...bound, using: &$0)
        }.asParameter()
        self.bias = bias ? Random.withGenerator { Tensor.uniform([outChannels], in: -bound...bound, using: &$0) }
            .asParameter() : nil
        super.init()
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String {
        "\(inChannels), \(outChannels), kernel_size=(\(kernelSize), \(kernelSize)), stride=(\(stride), \(stride)), padding=(\(padding), \(padding))"
    }
}

/// Pooling with a square window: subclasses say which.
open class Pool2d: Module<Tensor, Tensor> {
    public let kernelSize, stride: Int

    public init(_ kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        super.init()
    }

    /// The pooling itself.
    open func pool(_ x: Tensor) throws -> Tensor { x }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try pool(x)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "kernel_size=\(kernelSize), stride=\(stride)" }
}

/// Max pooling with a square window.
open class MaxPool2d: Pool2d {
    open override func pool(_ x: Tensor) throws -> Tensor { try x.maxPool2d(kernel: kernelSize, stride: stride) }
}

/// Average pooling with a square window.
open class AvgPool2d: Pool2d {
    open override func pool(_ x: Tensor) throws -> Tensor { try x.avgPool2d(kernel: kernelSize, stride: stride) }
}

/// Flattens axes `startAxis...endAxis` into one (default: everything but the batch), as
/// `torch.nn.Flatten(start_dim, end_dim)`; negative axes count from the end.
open class Flatten: Module<Tensor, Tensor> {
    public let startAxis: Int
    public let endAxis: Int

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
