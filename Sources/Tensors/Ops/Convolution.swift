/// Two sizes, for height and width: `3` means `[3, 3]`, `[3, 5]` means 3 high and 5 wide.
public struct Size2: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The size along the height (rows) axis.
    public let height: Int
    /// The size along the width (columns) axis.
    public let width: Int

    /// `height` high and `width` wide.
    public init(_ height: Int, _ width: Int) { (self.height, self.width) = (height, width) }
    /// The same size on both axes (`3` is `[3, 3]`).
    public init(integerLiteral value: Int) { self.init(value, value) }
    /// `[height, width]`; exactly two elements.
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "Size2: expected [height, width], got \(elements)")
        self.init(elements[0], elements[1])
    }

    /// `(3, 5)`, as PyTorch prints it.
    public var description: String { "(\(height), \(width))" }
}

/// Padding of a convolution: explicit sizes (`1`, `[1, 2]`), `.valid` (none) or `.same` (the
/// output as large as the input at stride 1; an odd total puts the extra row and column at the
/// bottom and right, as PyTorch does).
public enum ConvPadding: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    case explicit(Size2)
    case valid
    case same

    /// The same explicit padding on both axes (`1` is `[1, 1]`).
    public init(integerLiteral value: Int) { self = .explicit(Size2(value, value)) }
    /// Explicit padding `[height, width]`; exactly two elements.
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "ConvPadding: expected [height, width], got \(elements)")
        self = .explicit(Size2(elements[0], elements[1]))
    }

    /// `(1, 2)` for explicit padding, else `valid` or `same`.
    public var description: String {
        switch self {
        case .explicit(let size): size.description
        case .valid: "valid"
        case .same: "same"
        }
    }
}

/// 2-D convolution by im2col and SGEMM, and 2-D pooling.
extension Tensor {
    /// `x [N, C, H, W]` convolved with `weight [O, C, KH, KW]` plus `bias [O]`.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) throws -> Tensor {
        try conv2d(x, weight: weight, bias: bias, stride: Size2(stride, stride), padding: .explicit(Size2(padding, padding)))
    }

    /// `x [N, C, H, W]` convolved with `weight [O, C/groups, KH, KW]` plus `bias [O]`, as
    /// `torch.nn.functional.conv2d`: strides, paddings and dilations per axis, and `groups`
    /// (`groups == C == O` is a depthwise convolution).
    public static func conv2d(
        _ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2, padding: ConvPadding,
        dilation: Size2 = 1, groups: Int = 1
    ) throws -> Tensor {
        let shapes = [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? [])
        guard x.rank == 4, weight.rank == 4, groups > 0, x.shape[1] % groups == 0, weight.shape[0] % groups == 0,
            x.shape[1] / groups == weight.shape[1], bias.map({ $0.shape == [weight.shape[0]] }) ?? true
        else {
            throw TensorError(
                "conv2d", shapes,
                "expected x [N, C, H, W], weight [O, C/\(groups), KH, KW], bias [O], C and O divisible by groups \(groups)")
        }
        guard stride.height > 0, stride.width > 0, dilation.height > 0, dilation.width > 0 else {
            throw TensorError("conv2d", shapes, "stride \(stride) and dilation \(dilation) must be positive")
        }
        if padding == .same && stride != 1 {
            throw TensorError("conv2d", shapes, "padding 'same' needs stride 1, got \(stride)")
        }
        let geometry = ConvGeometry(
            input: x.shape, kernel: weight.shape, stride: stride, padding: padding, dilation: dilation, groups: groups)
        guard geometry.outHeight > 0, geometry.outWidth > 0, geometry.padTop >= 0, geometry.padLeft >= 0 else {
            throw TensorError("conv2d", shapes, "kernel larger than the padded input (padding \(padding), dilation \(dilation))")
        }
        let g = geometry
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let groupOut = g.outChannels / g.groups
        return Autograd.op(
            "conv2d", inputs,
            {
                _ = Gemm.singleThreaded
                let xc = x.contiguousStorageTensor
                let w = weight.contiguousStorageTensor
                let out = Tensor(uninitialized: [g.batch, g.outChannels, g.outHeight, g.outWidth])
                let cols = UnsafeMutablePointer<Float>.allocate(capacity: g.patch * g.positions)
                defer { cols.deallocate() }
                for n in 0..<g.batch {
                    let o = out.floats + n * g.outChannels * g.positions
                    if let bias {
                        let b = bias.contiguousStorageTensor.floats
                        for c in 0..<g.outChannels { (o + c * g.positions).update(repeating: b[c], count: g.positions) }
                    }
                    for group in 0..<g.groups {
                        Kernels.im2col(xc.floats + n * g.imageSize + group * g.groupImageSize, g, into: cols)
                        Gemm.multiply(
                            .init(pointer: w.floats + group * groupOut * g.patch, transposed: false, leading: g.patch),
                            .init(pointer: cols, transposed: false, leading: g.positions),
                            o + group * groupOut * g.positions, m: groupOut, n: g.positions, k: g.patch, beta: bias == nil ? 0 : 1)
                    }
                }
                return out
            },
            backward: { grad, _ in
                let gc = grad.contiguousStorageTensor
                let xc = x.contiguousStorageTensor
                let w = weight.contiguousStorageTensor
                let dx = x.requiresGrad ? Tensor.zeros(x.shape) : nil
                let dw = weight.requiresGrad ? Tensor.zeros(weight.shape) : nil
                let cols = UnsafeMutablePointer<Float>.allocate(capacity: g.patch * g.positions)
                defer { cols.deallocate() }
                for n in 0..<g.batch {
                    for group in 0..<g.groups {
                        let go = gc.floats + n * g.outChannels * g.positions + group * groupOut * g.positions
                        let image = n * g.imageSize + group * g.groupImageSize
                        if let dw {
                            Kernels.im2col(xc.floats + image, g, into: cols)
                            Gemm.multiply(
                                .init(pointer: go, transposed: false, leading: g.positions),
                                .init(pointer: cols, transposed: true, leading: g.positions),
                                dw.floats + group * groupOut * g.patch, m: groupOut, n: g.patch, k: g.positions, beta: 1)
                        }
                        if let dx {
                            Gemm.multiply(
                                .init(pointer: w.floats + group * groupOut * g.patch, transposed: true, leading: g.patch),
                                .init(pointer: go, transposed: false, leading: g.positions),
                                cols, m: g.patch, n: g.positions, k: groupOut)
                            Kernels.col2im(cols, g, into: dx.floats + image)
                        }
                    }
                }
                var grads: [Tensor?] = [dx, dw]
                if let bias {
                    if bias.requiresGrad {
                        let db = Tensor.zeros([g.outChannels])
                        for n in 0..<g.batch {
                            for c in 0..<g.outChannels {
                                let p = gc.floats + (n * g.outChannels + c) * g.positions
                                var s: Float = 0
                                for i in 0..<g.positions { s += p[i] }
                                db.floats[c] += s
                            }
                        }
                        grads.append(db)
                    } else {
                        grads.append(nil)
                    }
                }
                return grads
            })
    }
}

/// Sizes of one convolution (`channels` is per group).
struct ConvGeometry {
    let batch, channels, height, width: Int
    let outChannels, kernelHeight, kernelWidth: Int
    let strideH, strideW, padTop, padLeft, dilationH, dilationW, groups: Int
    let outHeight, outWidth: Int

    init(input: [Int], kernel: [Int], stride: Size2, padding: ConvPadding, dilation: Size2, groups: Int) {
        (batch, height, width) = (input[0], input[2], input[3])
        channels = input[1] / groups
        (outChannels, kernelHeight, kernelWidth) = (kernel[0], kernel[2], kernel[3])
        (strideH, strideW, dilationH, dilationW, self.groups) = (stride.height, stride.width, dilation.height, dilation.width, groups)
        let spanH = dilation.height * (kernelHeight - 1)
        let spanW = dilation.width * (kernelWidth - 1)
        let (totalH, totalW): (Int, Int)
        switch padding {
        case .explicit(let p): (padTop, padLeft, totalH, totalW) = (p.height, p.width, 2 * p.height, 2 * p.width)
        case .valid: (padTop, padLeft, totalH, totalW) = (0, 0, 0, 0)
        case .same: (padTop, padLeft, totalH, totalW) = (spanH / 2, spanW / 2, spanH, spanW)
        }
        outHeight = (height + totalH - spanH - 1) / strideH + 1
        outWidth = (width + totalW - spanW - 1) / strideW + 1
    }

    var patch: Int { channels * kernelHeight * kernelWidth }
    var positions: Int { outHeight * outWidth }
    var groupImageSize: Int { channels * height * width }
    var imageSize: Int { groups * groupImageSize }
}

extension Kernels {
    /// Unfolds one image `[C, H, W]` into columns `[C*KH*KW, OH*OW]`.
    static func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, into cols: UnsafeMutablePointer<Float>) {
        var row = 0
        for c in 0..<g.channels {
            for kh in 0..<g.kernelHeight {
                for kw in 0..<g.kernelWidth {
                    let dst = cols + row * g.positions
                    for oh in 0..<g.outHeight {
                        let ih = oh * g.strideH - g.padTop + kh * g.dilationH
                        let line = dst + oh * g.outWidth
                        if ih < 0 || ih >= g.height {
                            line.update(repeating: 0, count: g.outWidth)
                            continue
                        }
                        let src = x + (c * g.height + ih) * g.width
                        let shift = kw * g.dilationW - g.padLeft
                        for ow in 0..<g.outWidth {
                            let iw = ow * g.strideW + shift
                            line[ow] = iw >= 0 && iw < g.width ? src[iw] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// Folds columns back into an image, adding overlapping contributions.
    static func col2im(_ cols: UnsafePointer<Float>, _ g: ConvGeometry, into x: UnsafeMutablePointer<Float>) {
        var row = 0
        for c in 0..<g.channels {
            for kh in 0..<g.kernelHeight {
                for kw in 0..<g.kernelWidth {
                    let src = cols + row * g.positions
                    for oh in 0..<g.outHeight {
                        let ih = oh * g.strideH - g.padTop + kh * g.dilationH
                        if ih < 0 || ih >= g.height { continue }
                        let dst = x + (c * g.height + ih) * g.width
                        let shift = kw * g.dilationW - g.padLeft
                        for ow in 0..<g.outWidth {
                            let iw = ow * g.strideW + shift
                            if iw >= 0 && iw < g.width { dst[iw] += src[oh * g.outWidth + ow] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
