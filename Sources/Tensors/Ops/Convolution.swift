/// 2-D convolution by im2col and SGEMM, and 2-D pooling.
extension Tensor {
    /// `x [N, C, H, W]` convolved with `weight [O, C, KH, KW]` plus `bias [O]`.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) throws -> Tensor {
        guard x.rank == 4, weight.rank == 4, x.shape[1] == weight.shape[1], stride > 0, padding >= 0,
              bias.map({ $0.shape == [weight.shape[0]] }) ?? true else {
            throw TensorError("conv2d", [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? []),
                              "expected x [N, C, H, W], weight [O, C, KH, KW], bias [O]")
        }
        let geometry = ConvGeometry(input: x.shape, kernel: weight.shape, stride: stride, padding: padding)
        guard geometry.outHeight > 0, geometry.outWidth > 0 else {
            throw TensorError("conv2d", [x.shape, weight.shape], "kernel larger than the padded input")
        }
        let g = geometry
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return Autograd.op("conv2d", inputs, {
            _ = Gemm.singleThreaded
            let xc = x.contiguousStorageTensor, w = weight.contiguousStorageTensor
            let out = Tensor(uninitialized: [g.batch, g.outChannels, g.outHeight, g.outWidth])
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: g.patch * g.positions)
            defer { cols.deallocate() }
            for n in 0..<g.batch {
                Kernels.im2col(xc.floats + n * g.imageSize, g, into: cols)
                let o = out.floats + n * g.outChannels * g.positions
                if let bias {
                    let b = bias.contiguousStorageTensor.floats
                    for c in 0..<g.outChannels { (o + c * g.positions).update(repeating: b[c], count: g.positions) }
                }
                Gemm.multiply(.init(pointer: w.floats, transposed: false, leading: g.patch),
                              .init(pointer: cols, transposed: false, leading: g.positions),
                              o, m: g.outChannels, n: g.positions, k: g.patch, beta: bias == nil ? 0 : 1)
            }
            return out
        }, backward: { grad, _ in
            let gc = grad.contiguousStorageTensor
            let xc = x.contiguousStorageTensor, w = weight.contiguousStorageTensor
            let dx = x.requiresGrad ? Tensor.zeros(x.shape) : nil
            let dw = weight.requiresGrad ? Tensor.zeros(weight.shape) : nil
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: g.patch * g.positions)
            defer { cols.deallocate() }
            for n in 0..<g.batch {
                let go = gc.floats + n * g.outChannels * g.positions
                if let dw {
                    Kernels.im2col(xc.floats + n * g.imageSize, g, into: cols)
                    Gemm.multiply(.init(pointer: go, transposed: false, leading: g.positions),
                                  .init(pointer: cols, transposed: true, leading: g.positions),
                                  dw.floats, m: g.outChannels, n: g.patch, k: g.positions, beta: 1)
                }
                if let dx {
                    Gemm.multiply(.init(pointer: w.floats, transposed: true, leading: g.patch),
                                  .init(pointer: go, transposed: false, leading: g.positions),
                                  cols, m: g.patch, n: g.positions, k: g.outChannels)
                    Kernels.col2im(cols, g, into: dx.floats + n * g.imageSize)
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

    /// Max pooling of `[N, C, H, W]` with a square window.
    public func maxPool2d(kernel: Int, stride: Int? = nil) throws -> Tensor {
        try pool("max_pool2d", kernel: kernel, stride: stride ?? kernel, max: true)
    }

    /// Average pooling of `[N, C, H, W]` with a square window.
    public func avgPool2d(kernel: Int, stride: Int? = nil) throws -> Tensor {
        try pool("avg_pool2d", kernel: kernel, stride: stride ?? kernel, max: false)
    }

    private func pool(_ name: String, kernel: Int, stride: Int, max useMax: Bool) throws -> Tensor {
        guard rank == 4, kernel > 0, stride > 0, shape[2] >= kernel, shape[3] >= kernel else {
            throw TensorError(name, [shape], "expected [N, C, H, W] at least \(kernel)x\(kernel) (kernel \(kernel), stride \(stride))")
        }
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1
        let input = shape
        var argmax = [Int32]()
        return Autograd.op(name, [self], {
            let xc = contiguousStorageTensor
            let out = Tensor(uninitialized: [shape[0], shape[1], oh, ow])
            if useMax { argmax = [Int32](repeating: 0, count: planes * oh * ow) }
            let scale = 1 / Float(kernel * kernel)
            for p in 0..<planes {
                let src = xc.floats + p * h * w, dst = out.floats + p * oh * ow
                for i in 0..<oh {
                    for j in 0..<ow {
                        if useMax {
                            var best = -Float.infinity, at = 0
                            for di in 0..<kernel {
                                for dj in 0..<kernel {
                                    let idx = (i * stride + di) * w + j * stride + dj
                                    if src[idx] > best { best = src[idx]; at = idx }
                                }
                            }
                            dst[i * ow + j] = best
                            argmax[(p * oh + i) * ow + j] = Int32(at)
                        } else {
                            var s: Float = 0
                            for di in 0..<kernel { for dj in 0..<kernel { s += src[(i * stride + di) * w + j * stride + dj] } }
                            dst[i * ow + j] = s * scale
                        }
                    }
                }
            }
            return out
        }, backward: { g, _ in
            let gc = g.contiguousStorageTensor
            let dx = Tensor.zeros(input)
            let scale = 1 / Float(kernel * kernel)
            for p in 0..<planes {
                let src = gc.floats + p * oh * ow, dst = dx.floats + p * h * w
                for i in 0..<oh {
                    for j in 0..<ow {
                        let v = src[i * ow + j]
                        if useMax {
                            dst[Int(argmax[(p * oh + i) * ow + j])] += v
                        } else {
                            for di in 0..<kernel { for dj in 0..<kernel { dst[(i * stride + di) * w + j * stride + dj] += v * scale } }
                        }
                    }
                }
            }
            return [dx]
        })
    }
}

/// Sizes of one convolution.
struct ConvGeometry {
    let batch, channels, height, width: Int
    let outChannels, kernelHeight, kernelWidth: Int
    let stride, padding: Int
    let outHeight, outWidth: Int

    init(input: [Int], kernel: [Int], stride: Int, padding: Int) {
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        (outChannels, kernelHeight, kernelWidth) = (kernel[0], kernel[2], kernel[3])
        self.stride = stride
        self.padding = padding
        outHeight = (height + 2 * padding - kernelHeight) / stride + 1
        outWidth = (width + 2 * padding - kernelWidth) / stride + 1
    }

    var patch: Int { channels * kernelHeight * kernelWidth }
    var positions: Int { outHeight * outWidth }
    var imageSize: Int { channels * height * width }
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
                        let ih = oh * g.stride - g.padding + kh
                        let line = dst + oh * g.outWidth
                        if ih < 0 || ih >= g.height {
                            line.update(repeating: 0, count: g.outWidth)
                            continue
                        }
                        let src = x + (c * g.height + ih) * g.width
                        for ow in 0..<g.outWidth {
                            let iw = ow * g.stride - g.padding + kw
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
                        let ih = oh * g.stride - g.padding + kh
                        if ih < 0 || ih >= g.height { continue }
                        let dst = x + (c * g.height + ih) * g.width
                        for ow in 0..<g.outWidth {
                            let iw = ow * g.stride - g.padding + kw
                            if iw >= 0 && iw < g.width { dst[iw] += src[oh * g.outWidth + ow] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
