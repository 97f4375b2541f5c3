#if canImport(Glibc)
    import Glibc
#endif

/// Element-wise math and activations.
extension Tensor {
    /// Element-wise `e^x`.
    public func exp() -> Tensor {
        map("exp", { expf($0) }) { g, y in [g.gradient(g, y) { _, y in y }] }
    }

    /// Element-wise natural logarithm.
    public func log() -> Tensor {
        map("log", { logf($0) }) { [x = detach()] g, y in [x.gradient(g, y) { x, _ in 1 / x }] }
    }

    /// Element-wise square root.
    public func sqrt() -> Tensor {
        map("sqrt", { $0.squareRoot() }) { g, y in [y.gradient(g, y) { _, y in 0.5 / y }] }
    }

    /// Element-wise `x^p`.
    public func pow(_ p: Float) -> Tensor {
        map("pow", { powf($0, p) }) { [x = detach()] g, y in
            [x.gradient(g, y) { x, _ in p * powf(x, p - 1) }]
        }
    }

    /// Element-wise `max(x, 0)`.
    public func relu() -> Tensor {
        map("relu", { max($0, 0) }) { g, y in [y.gradient(g, y) { _, y in y > 0 ? 1 : 0 }] }
    }

    /// GELU with the exact erf form, as PyTorch's default.
    public func gelu() -> Tensor {
        map("gelu", { 0.5 * $0 * (1 + erff($0 * 0.707_106_77)) }) { [x = detach()] g, y in
            [
                x.gradient(g, y) { x, _ in
                    0.5 * (1 + erff(x * 0.707_106_77)) + x * 0.398_942_3 * expf(-0.5 * x * x)
                }
            ]
        }
    }

    /// Element-wise hyperbolic tangent.
    public func tanh() -> Tensor {
        map("tanh", { tanhf($0) }) { g, y in [y.gradient(g, y) { _, y in 1 - y * y }] }
    }

    /// Element-wise logistic sigmoid `1 / (1 + e^-x)`.
    public func sigmoid() -> Tensor {
        map("sigmoid", { 1 / (1 + expf(-$0)) }) { g, y in [y.gradient(g, y) { _, y in y * (1 - y) }] }
    }
}
