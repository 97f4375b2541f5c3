import Tensors

/// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch semantics).
///
/// The momentum buffer is per parameter and starts at that parameter's first gradient,
/// without dampening, as in `torch.optim.SGD`.
public final class SGD: Optimizer {
    /// Momentum factor; 0 is plain SGD without a buffer.
    public let momentum: Float
    /// Dampening of the gradient's contribution to the momentum buffer (not applied on the first step).
    public let dampening: Float
    /// L2 penalty added to the gradient.
    public let weightDecay: Float
    /// Uses Nesterov momentum (the update is `d + momentum · buffer`).
    public let nesterov: Bool
    /// Ascends the objective instead (`maximize=True`).
    public let maximize: Bool
    /// Momentum buffer per parameter, nil until the parameter's first update.
    package var momentumBuffers: [Tensor?]

    /// SGD at `learningRate` with PyTorch's defaults (no momentum, dampening or weight decay).
    public init(
        parameters: [Tensor], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
        weightDecay: Float = 0, nesterov: Bool = false, maximize: Bool = false
    ) {
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.maximize = maximize
        momentumBuffers = Array(repeating: nil, count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override func update(_ index: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ n: Int) {
        let (lr, wd, mu) = (learningRate, weightDecay, momentum)
        let sign: Float = maximize ? -1 : 1
        if mu == 0 {
            for i in 0..<n { p[i] -= lr * (sign * g[i] + wd * p[i]) }
            return
        }
        let damp: Float
        let b: UnsafeMutablePointer<Float>
        if let buffer = momentumBuffers[index] {
            (b, damp) = (buffer.floats, 1 - dampening)
        } else {
            // First step of this parameter: buf = d (torch clones the gradient).
            let buffer = Tensor.zeros(parameters[index].shape)
            momentumBuffers[index] = buffer
            (b, damp) = (buffer.floats, 1)
        }
        // Separate loops without branches, so that they vectorize.
        if nesterov {
            for i in 0..<n {
                let d = sign * g[i] + wd * p[i]
                b[i] = mu * b[i] + damp * d
                p[i] -= lr * (d + mu * b[i])
            }
        } else {
            for i in 0..<n {
                let d = sign * g[i] + wd * p[i]
                b[i] = mu * b[i] + damp * d
                p[i] -= lr * b[i]
            }
        }
    }

    public override func state(of index: Int) -> [String: Tensor] {
        momentumBuffers[index].map { ["momentum_buffer": $0] } ?? [:]
    }

    public override func restoreState(of index: Int, _ state: [String: Tensor]) throws {
        momentumBuffers[index] = try state.isEmpty ? nil : OptimizerState.tensor(state, "momentum_buffer", like: parameters[index])
    }
}
