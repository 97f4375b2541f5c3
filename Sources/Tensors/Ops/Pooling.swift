/// 2-D max, average and adaptive average pooling of `[N, C, H, W]`, with PyTorch's options.
extension Tensor {
    /// Max pooling (`max_pool2d`): padded positions never win; `ceilMode` keeps a last partial
    /// window. A tie sends the gradient to the first maximum in row-major order, as PyTorch.
    public func maxPool2d(kernel: Size2, stride: Size2? = nil, padding: Size2 = 0, ceilMode: Bool = false) throws -> Tensor {
        let windows = try PoolWindows("max_pool2d", shape, kernel: kernel, stride: stride ?? kernel, padding: padding, ceilMode: ceilMode)
        return pool("max_pool2d", windows, max: true)
    }

    /// Average pooling (`avg_pool2d`): with `countIncludePad` (the default, as PyTorch) the
    /// divisor counts padded positions inside the padded input, otherwise only real ones.
    public func avgPool2d(
        kernel: Size2, stride: Size2? = nil, padding: Size2 = 0, ceilMode: Bool = false,
        countIncludePad: Bool = true
    ) throws -> Tensor {
        let windows = try PoolWindows(
            "avg_pool2d", shape, kernel: kernel, stride: stride ?? kernel, padding: padding,
            ceilMode: ceilMode, countIncludePad: countIncludePad)
        return pool("avg_pool2d", windows, max: false)
    }

    /// Adaptive average pooling to `outputSize` (`adaptive_avg_pool2d`): window `i` covers
    /// `floor(i·H/OH) ..< ceil((i+1)·H/OH)`.
    public func adaptiveAvgPool2d(_ outputSize: Size2) throws -> Tensor {
        guard rank == 4, outputSize.height > 0, outputSize.width > 0 else {
            throw TensorError("adaptive_avg_pool2d", [shape], "expected [N, C, H, W] and a positive output size, got \(outputSize)")
        }
        return pool("adaptive_avg_pool2d", PoolWindows(adaptive: shape, outputSize), max: false)
    }

    /// Max pooling with a square window (kept for existing callers).
    public func maxPool2d(kernel: Int, stride: Int? = nil) throws -> Tensor {
        try maxPool2d(kernel: Size2(kernel, kernel), stride: stride.map { Size2($0, $0) })
    }

    /// Average pooling with a square window (kept for existing callers).
    public func avgPool2d(kernel: Int, stride: Int? = nil) throws -> Tensor {
        try avgPool2d(kernel: Size2(kernel, kernel), stride: stride.map { Size2($0, $0) })
    }

    private func pool(_ name: String, _ windows: PoolWindows, max useMax: Bool) -> Tensor {
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (oh, ow) = (windows.rows.count, windows.columns.count)
        let input = shape
        var argmax = [Int32]()
        return Autograd.op(
            name, [self],
            {
                let xc = contiguousStorageTensor
                let out = Tensor(uninitialized: [shape[0], shape[1], oh, ow])
                if useMax { argmax = [Int32](repeating: 0, count: planes * oh * ow) }
                for p in 0..<planes {
                    let src = xc.floats + p * h * w
                    let dst = out.floats + p * oh * ow
                    for i in 0..<oh {
                        let rows = windows.rows[i]
                        for j in 0..<ow {
                            let columns = windows.columns[j]
                            if useMax {
                                var best = -Float.infinity
                                var at = rows.lowerBound * w + columns.lowerBound
                                for r in rows {
                                    for c in columns where src[r * w + c] > best {
                                        best = src[r * w + c]
                                        at = r * w + c
                                    }
                                }
                                dst[i * ow + j] = best
                                argmax[(p * oh + i) * ow + j] = Int32(at)
                            } else {
                                var s: Float = 0
                                for r in rows { for c in columns { s += src[r * w + c] } }
                                dst[i * ow + j] = s / windows.divisor(i, j)
                            }
                        }
                    }
                }
                return out
            },
            backward: { g, _ in
                let gc = g.contiguousStorageTensor
                let dx = Tensor.zeros(input)
                for p in 0..<planes {
                    let src = gc.floats + p * oh * ow
                    let dst = dx.floats + p * h * w
                    for i in 0..<oh {
                        for j in 0..<ow {
                            let v = src[i * ow + j]
                            if useMax {
                                dst[Int(argmax[(p * oh + i) * ow + j])] += v
                            } else {
                                let share = v / windows.divisor(i, j)
                                for r in windows.rows[i] { for c in windows.columns[j] { dst[r * w + c] += share } }
                            }
                        }
                    }
                }
                return [dx]
            })
    }
}

/// The input rows and columns each output of a pooling reads, and the average's divisors.
struct PoolWindows {
    /// Input rows of output row i (clipped to the input).
    var rows: [Range<Int>] = []
    var columns: [Range<Int>] = []
    /// Window height and width counted for the average, per output row and column.
    var rowCounts: [Int] = []
    var columnCounts: [Int] = []

    func divisor(_ i: Int, _ j: Int) -> Float { Float(rowCounts[i] * columnCounts[j]) }

    init(
        _ op: String, _ shape: [Int], kernel: Size2, stride: Size2, padding: Size2, ceilMode: Bool,
        countIncludePad: Bool = true
    ) throws {
        guard shape.count == 4, kernel.height > 0, kernel.width > 0, stride.height > 0, stride.width > 0,
            padding.height >= 0, padding.width >= 0, 2 * padding.height <= kernel.height, 2 * padding.width <= kernel.width
        else {
            throw TensorError(
                op, [shape],
                "expected [N, C, H, W], a positive kernel \(kernel) and stride \(stride), padding \(padding) at most half the kernel")
        }
        func axis(_ size: Int, _ k: Int, _ s: Int, _ p: Int) throws -> ([Range<Int>], [Int]) {
            let span = size + 2 * p - k
            guard span >= 0 else { throw TensorError(op, [shape], "kernel \(kernel) larger than the padded input (padding \(padding))") }
            var count = (ceilMode ? (span + s - 1) / s : span / s) + 1
            // PyTorch: the last window must start inside the input or its left padding.
            if ceilMode && (count - 1) * s >= size + p { count -= 1 }
            var ranges: [Range<Int>] = []
            var counts: [Int] = []
            for o in 0..<count {
                let start = o * s - p
                let end = Swift.min(start + k, size + p)
                let clipped = Swift.max(start, 0)..<Swift.min(end, size)
                ranges.append(clipped)
                counts.append(countIncludePad ? end - start : clipped.count)
            }
            return (ranges, counts)
        }
        (rows, rowCounts) = try axis(shape[2], kernel.height, stride.height, padding.height)
        (columns, columnCounts) = try axis(shape[3], kernel.width, stride.width, padding.width)
    }

    init(adaptive shape: [Int], _ output: Size2) {
        func axis(_ size: Int, _ out: Int) -> ([Range<Int>], [Int]) {
            let ranges = (0..<out).map { i in (i * size / out)..<(((i + 1) * size + out - 1) / out) }
            return (ranges, ranges.map(\.count))
        }
        (rows, rowCounts) = axis(shape[2], output.height)
        (columns, columnCounts) = axis(shape[3], output.width)
    }
}
