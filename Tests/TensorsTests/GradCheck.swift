import Testing
@testable import Tensors

/// Compares autograd gradients with central finite differences of `sum(f(inputs) * r)`
/// for a fixed random projection `r`.
func gradCheck(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3,
               sourceLocation: SourceLocation = #_sourceLocation,
               _ f: ([Tensor]) throws -> Tensor) throws {
    for x in inputs where x.dtype == .float32 { x.requiresGrad = true; x.grad = nil }
    let y = try f(inputs)
    var generator = RandomGenerator(seed: 99)
    let projection = Tensor.uniform(y.shape, in: -1...1, using: &generator)
    try (y * projection).sum().backward()

    func loss() throws -> Double {
        let out = try noGrad { try f(inputs) }.scalars
        return zip(out, projection.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    for (n, x) in inputs.enumerated() where x.dtype == .float32 {
        let analytic = try #require(x.grad, "input \(n) got no gradient", sourceLocation: sourceLocation).scalars
        for i in 0..<x.count {
            let saved = x.floats[i]
            x.floats[i] = saved + eps
            let plus = try loss()
            x.floats[i] = saved - eps
            let minus = try loss()
            x.floats[i] = saved
            let numeric = Float((plus - minus) / Double(2 * eps))
            #expect(abs(analytic[i] - numeric) <= atol + rtol * abs(numeric),
                    "input \(n) element \(i): autograd \(analytic[i]) vs finite difference \(numeric)",
                    sourceLocation: sourceLocation)
        }
    }
}

func random(_ shape: [Int], seed: UInt64 = 1, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, in: range, using: &g)
}
