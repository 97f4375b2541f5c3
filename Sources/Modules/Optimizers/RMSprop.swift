import Tensors

/// RMSprop with optional momentum, centering and weight decay (`torch.optim.RMSprop`
/// semantics; state per parameter, starting at its first gradient).
public final class RMSprop: Optimizer {
    /// Smoothing constant of the squared-gradient average.
    public let alpha: Float
    /// Added to the denominator `√v` for numerical stability.
    public let eps: Float
    /// L2 penalty added to the gradient.
    public let weightDecay: Float
    /// Momentum factor; 0 disables the momentum buffer.
    public let momentum: Float
    /// Normalizes by the estimated variance instead of the second moment.
    public let centered: Bool
    /// Ascends the objective instead (`maximize=True`).
    public let maximize: Bool
    /// State per parameter, nil until the parameter's first update.
    package var states: [RMSpropState?]

    /// RMSprop with PyTorch's defaults (`lr=1e-2`, `alpha=0.99`, `eps=1e-8`, no momentum or weight decay).
    public init(
        parameters: [Tensor], learningRate: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8,
        weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false, maximize: Bool = false
    ) {
        (self.alpha, self.eps, self.weightDecay, self.momentum) = (alpha, eps, weightDecay, momentum)
        (self.centered, self.maximize) = (centered, maximize)
        states = Array(repeating: nil, count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override func update(_ index: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ n: Int) {
        let state = states[index] ?? RMSpropState(shape: parameters[index].shape, centered: centered, momentum: momentum > 0)
        states[index] = state
        state.step += 1
        let (lr, a, wd, mu, eps) = (learningRate, alpha, weightDecay, momentum, eps)
        let sign: Float = maximize ? -1 : 1
        let square = state.squareAverage.floats
        let mean = state.gradientAverage?.floats
        let buffer = state.momentumBuffer?.floats
        for i in 0..<n {
            let gi = sign * g[i] + wd * p[i]
            square[i] = a * square[i] + (1 - a) * gi * gi
            var average = square[i]
            if let mean {
                mean[i] += (gi - mean[i]) * (1 - a)
                average -= mean[i] * mean[i]
            }
            let denominator = average.squareRoot() + eps
            if let buffer {
                buffer[i] = mu * buffer[i] + gi / denominator
                p[i] -= lr * buffer[i]
            } else {
                p[i] -= lr * gi / denominator
            }
        }
    }

    public override func state(of index: Int) -> [String: Tensor] {
        guard let s = states[index] else { return [:] }
        var result = ["step": Tensor.scalar(Float(s.step)), "square_avg": s.squareAverage]
        result["grad_avg"] = s.gradientAverage
        result["momentum_buffer"] = s.momentumBuffer
        return result
    }

    public override func restoreState(of index: Int, _ state: [String: Tensor]) throws {
        guard !state.isEmpty else {
            states[index] = nil
            return
        }
        let s = RMSpropState(shape: parameters[index].shape, centered: centered, momentum: momentum > 0)
        s.step = try OptimizerState.step(state)
        try OptimizerState.copy(state, "square_avg", into: s.squareAverage)
        if let t = s.gradientAverage { try OptimizerState.copy(state, "grad_avg", into: t) }
        if let t = s.momentumBuffer { try OptimizerState.copy(state, "momentum_buffer", into: t) }
        states[index] = s
    }
}

/// RMSprop's state for one parameter (torch's `step`, `square_avg`, `grad_avg`, `momentum_buffer`).
package final class RMSpropState {
    package var step = 0
    package let squareAverage: Tensor
    package let gradientAverage: Tensor?
    package let momentumBuffer: Tensor?

    init(shape: [Int], centered: Bool, momentum: Bool) {
        squareAverage = .zeros(shape)
        gradientAverage = centered ? .zeros(shape) : nil
        momentumBuffer = momentum ? .zeros(shape) : nil
    }
}
