import Tensors

#if canImport(Glibc)
    import Glibc
#endif

/// Adam, or AdamW with `decoupledWeightDecay` (PyTorch semantics, including `amsgrad`
/// and `maximize`).
///
/// The step count (for bias correction) and the moments are per parameter, starting at
/// the parameter's first gradient, as in `torch.optim.Adam`.
public class Adam: Optimizer {
    /// Decay rate of the first-moment (gradient) average (PyTorch's `betas[0]`).
    public let beta1: Float
    /// Decay rate of the second-moment (squared-gradient) average (PyTorch's `betas[1]`).
    public let beta2: Float
    /// Added to the denominator `√v̂` for numerical stability.
    public let eps: Float
    /// L2 penalty added to the gradient (Adam), or the decoupled decay factor applied to the weights (AdamW).
    public let weightDecay: Float
    /// Uses the running maximum of the second moment (`amsgrad=True`).
    public let amsgrad: Bool
    /// Ascends the objective instead (`maximize=True`).
    public let maximize: Bool
    let decoupled: Bool
    /// State per parameter, nil until the parameter's first update.
    package var states: [AdamState?]

    /// Adam with PyTorch's defaults (`lr=1e-3`, `betas=(0.9, 0.999)`, `eps=1e-8`, no weight decay).
    public init(
        parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        eps: Float = 1e-8, weightDecay: Float = 0, amsgrad: Bool = false, maximize: Bool = false
    ) {
        (self.beta1, self.beta2, self.eps, self.weightDecay) = (beta1, beta2, eps, weightDecay)
        (self.amsgrad, self.maximize, decoupled) = (amsgrad, maximize, false)
        states = Array(repeating: nil, count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate)
    }

    init(
        decoupled parameters: [Tensor], learningRate: Float, beta1: Float, beta2: Float, eps: Float,
        decoupledWeightDecay: Float, amsgrad: Bool, maximize: Bool
    ) {
        (self.beta1, self.beta2, self.eps, weightDecay) = (beta1, beta2, eps, decoupledWeightDecay)
        (self.amsgrad, self.maximize, decoupled) = (amsgrad, maximize, true)
        states = Array(repeating: nil, count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override func update(_ index: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ n: Int) {
        let state = states[index] ?? AdamState(shape: parameters[index].shape, amsgrad: amsgrad)
        states[index] = state
        state.step += 1
        // As torch: the corrections in double precision from the per-parameter step.
        let t = Double(state.step)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let correction2Root = Float((1 - pow(Double(beta2), t)).squareRoot())
        let (lr, wd, b1, b2, eps) = (learningRate, weightDecay, beta1, beta2, eps)
        let sign: Float = maximize ? -1 : 1
        let m = state.firstMoment.floats
        let v = state.secondMoment.floats
        let vmax = state.maxSecondMoment?.floats
        for i in 0..<n {
            if decoupled { p[i] *= 1 - lr * wd }
            let gi = decoupled ? sign * g[i] : sign * g[i] + wd * p[i]
            m[i] += (gi - m[i]) * (1 - b1)
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            var second = v[i]
            if let vmax {
                vmax[i] = max(vmax[i], v[i])
                second = vmax[i]
            }
            p[i] -= stepSize * m[i] / (second.squareRoot() / correction2Root + eps)
        }
    }

    public override func state(of index: Int) -> [String: Tensor] {
        guard let s = states[index] else { return [:] }
        var result = ["step": Tensor.scalar(Float(s.step)), "exp_avg": s.firstMoment, "exp_avg_sq": s.secondMoment]
        result["max_exp_avg_sq"] = s.maxSecondMoment
        return result
    }

    public override func restoreState(of index: Int, _ state: [String: Tensor]) throws {
        guard !state.isEmpty else {
            states[index] = nil
            return
        }
        let p = parameters[index]
        let s = AdamState(shape: p.shape, amsgrad: amsgrad)
        s.step = try OptimizerState.step(state)
        try OptimizerState.copy(state, "exp_avg", into: s.firstMoment)
        try OptimizerState.copy(state, "exp_avg_sq", into: s.secondMoment)
        if let m = s.maxSecondMoment { try OptimizerState.copy(state, "max_exp_avg_sq", into: m) }
        states[index] = s
    }
}

/// Adam's state for one parameter (torch's `step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`).
package final class AdamState {
    package var step = 0
    package let firstMoment: Tensor
    package let secondMoment: Tensor
    package let maxSecondMoment: Tensor?

    init(shape: [Int], amsgrad: Bool) {
        firstMoment = .zeros(shape)
        secondMoment = .zeros(shape)
        maxSecondMoment = amsgrad ? .zeros(shape) : nil
    }
}

/// Adam with decoupled weight decay (default 0.01, as PyTorch's AdamW).
public final class AdamW: Adam {
    public override init(
        parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        eps: Float = 1e-8, weightDecay: Float = 0.01, amsgrad: Bool = false, maximize: Bool = false
    ) {
        super.init(
            decoupled: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
            decoupledWeightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize)
    }
}
