/// One element whose autograd gradient disagrees with the finite difference.
public struct GradientMismatch: CustomStringConvertible, Sendable {
    /// Index of the input tensor in the `gradientCheck` inputs.
    public let input: Int
    /// Flat (row-major) index of the element within that input.
    public let element: Int
    /// The gradient autograd computed for the element.
    public let autograd: Float
    /// The central finite-difference estimate for the element.
    public let numeric: Float
    /// One line naming the input, element and both gradients.
    public var description: String {
        "input \(input) element \(element): autograd \(autograd) vs finite difference \(numeric)"
    }
}

/// Compares autograd gradients of `sum(f(inputs) ⊙ r)`, for a fixed random `r`, with
/// central finite differences (PyTorch's `gradcheck`, in float32). Returns the
/// disagreeing elements; empty means the backward rules are right.
public func gradientCheck(
    _ inputs: [Tensor], eps: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3,
    _ f: ([Tensor]) throws -> Tensor
) throws -> [GradientMismatch] {
    for x in inputs where x.dtype == .float32 {
        x.requiresGrad = true
        x.grad = nil
    }
    let y = try f(inputs)
    var generator = RandomGenerator(seed: 99)
    let projection = Tensor.uniform(y.shape, in: -1...1, using: &generator)
    try (y * projection).sum().backward()
    let weights = projection.scalars

    func loss() throws -> Double {
        let out = try noGrad { try f(inputs) }.scalars
        return zip(out, weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    var mismatches: [GradientMismatch] = []
    for (n, x) in inputs.enumerated() where x.dtype == .float32 {
        let analytic = x.grad?.scalars ?? [Float](repeating: .nan, count: x.count)
        precondition(x.isContiguous, "gradientCheck perturbs inputs in place; pass contiguous tensors")
        for i in 0..<x.count {
            let saved = x.floats[i]
            x.floats[i] = saved + eps
            let plus = try loss()
            x.floats[i] = saved - eps
            let minus = try loss()
            x.floats[i] = saved
            let numeric = Float((plus - minus) / Double(2 * eps))
            if !(abs(analytic[i] - numeric) <= atol + rtol * abs(numeric)) {
                mismatches.append(GradientMismatch(input: n, element: i, autograd: analytic[i], numeric: numeric))
            }
        }
    }
    return mismatches
}
