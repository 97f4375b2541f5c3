/// Broadcasting element-wise arithmetic.
extension Tensor {
    static func broadcastShape(_ op: String, _ a: Tensor, _ b: Tensor) throws -> [Int] {
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            throw TensorError(op, [a.shape, b.shape], "shapes cannot be broadcast together")
        }
        return shape
    }

    @inline(__always)
    static func elementwise(
        _ name: String, _ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float,
        backward: @escaping Autograd.Backward
    ) throws -> Tensor {
        let shape = try broadcastShape(name, a, b)
        return Autograd.op(
            name, [a, b],
            {
                let out = Tensor(uninitialized: shape)
                Kernels.binary(a, b, shape: shape, into: out.floats, f)
                return out
            }, backward: backward)
    }

    /// Element-wise sum, with NumPy broadcasting; throws when the shapes cannot be broadcast.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try elementwise("add", a, b, +) { g, _ in [g.sum(toShape: a.shape), g.sum(toShape: b.shape)] }
    }

    /// Element-wise difference, with NumPy broadcasting; throws when the shapes cannot be broadcast.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try elementwise("sub", a, b, -) { g, _ in [g.sum(toShape: a.shape), g.negated().sum(toShape: b.shape)] }
    }

    /// Element-wise product, with NumPy broadcasting; throws when the shapes cannot be broadcast.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        try elementwise("mul", a, b, *) { g, _ in
            [
                a.requiresGrad ? try (g * b.detach()).sum(toShape: a.shape) : nil,
                b.requiresGrad ? try (g * a.detach()).sum(toShape: b.shape) : nil,
            ]
        }
    }

    /// Element-wise quotient, with NumPy broadcasting; throws when the shapes cannot be broadcast.
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        try elementwise("div", a, b, /) { g, _ in
            let bd = b.detach()
            return [
                a.requiresGrad ? try (g / bd).sum(toShape: a.shape) : nil,
                b.requiresGrad ? try (g * a.detach() / (bd * bd)).negated().sum(toShape: b.shape) : nil,
            ]
        }
    }

    /// Adds `s` to every element.
    public static func + (a: Tensor, s: Float) -> Tensor { a.map("add_scalar", { $0 + s }) { g, _ in [g] } }
    /// Adds `s` to every element.
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    /// Subtracts `s` from every element.
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    /// `s` minus each element.
    public static func - (s: Float, a: Tensor) -> Tensor { a.negated() + s }
    /// Multiplies every element by `s`.
    public static func * (a: Tensor, s: Float) -> Tensor { a.map("mul_scalar", { $0 * s }) { g, _ in [g * s] } }
    /// Multiplies every element by `s`.
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    /// Divides every element by `s`.
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static prefix func - (a: Tensor) -> Tensor { a.negated() }

    /// Element-wise negation.
    public func negated() -> Tensor { map("neg", { -$0 }) { g, _ in [g.negated()] } }

    /// Applies `f` element-wise as op `name`.
    @inline(__always)
    func map(_ name: String, _ f: (Float) -> Float, backward: @escaping Autograd.Backward) -> Tensor {
        Autograd.op(
            name, [self],
            {
                let src = contiguousStorageTensor
                let out = Tensor(uninitialized: shape)
                Kernels.unary(src.floats, out.floats, count, f)
                return out
            }, backward: backward)
    }

    /// `g ⊙ f(x, y)` element-wise, for backward rules of unary ops (x: input, y: output).
    @inline(__always)
    func gradient(_ g: Tensor, _ y: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let x = contiguousStorageTensor
        let gc = g.contiguousStorageTensor
        let yc = y.contiguousStorageTensor
        let out = Tensor(uninitialized: shape)
        let px = x.floats
        let pg = gc.floats
        let py = yc.floats
        let po = out.floats
        for i in 0..<count { po[i] = pg[i] * f(px[i], py[i]) }
        return out
    }

    /// Sums broadcast axes away so the result has `target` shape (backward of broadcasting).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        let summed = axes.isEmpty ? self : try! sum(axes: axes, keepDims: true)
        return try! summed.reshaped(target)
    }
}
