import Tensors

#if canImport(Glibc)
    import Glibc
#endif

/// Sets an optimizer's learning rate from the epoch (or step) count, like
/// `torch.optim.lr_scheduler`: creating one sets the epoch-0 rate, and each `step()` (call it
/// after `optimizer.step()`) advances one epoch.
open class LearningRateSchedule {
    /// The optimizer whose learning rate this sets.
    public let optimizer: Optimizer
    /// The optimizer's learning rate when the schedule was created.
    public let baseLearningRate: Float
    /// Epochs stepped so far (torch's `last_epoch`).
    public private(set) var epoch = 0

    /// Schedules `optimizer`'s rate from its current one, and sets the epoch-0 rate.
    public init(_ optimizer: Optimizer) {
        self.optimizer = optimizer
        baseLearningRate = optimizer.learningRate
        optimizer.learningRate = Float(learningRate(at: 0))
    }

    /// The rate at `epoch`, from `baseLearningRate`.
    open func learningRate(at epoch: Int) -> Double { Double(baseLearningRate) }

    /// Advances one epoch and sets the optimizer's rate.
    public func step() {
        epoch += 1
        optimizer.learningRate = Float(learningRate(at: epoch))
    }
}

/// Multiplies the rate by `gamma` every `stepSize` epochs (`StepLR`).
public final class StepLR: LearningRateSchedule {
    /// The number of epochs between decays.
    public let stepSize: Int
    /// The factor applied every `stepSize` epochs.
    public let gamma: Double

    /// Multiplies `optimizer`'s rate by `gamma` every `stepSize` (positive) epochs.
    public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) {
        precondition(stepSize > 0, "StepLR: stepSize must be positive")
        (self.stepSize, self.gamma) = (stepSize, gamma)
        super.init(optimizer)
    }

    public override func learningRate(at epoch: Int) -> Double {
        Double(baseLearningRate) * pow(gamma, Double(epoch / stepSize))
    }
}

/// Half a cosine from the base rate down to `minimum` over `maxEpochs` (`CosineAnnealingLR`).
public final class CosineAnnealingLR: LearningRateSchedule {
    /// The epochs of the half cosine (PyTorch's `T_max`).
    public let maxEpochs: Int
    /// The rate reached at `maxEpochs` (PyTorch's `eta_min`).
    public let minimum: Double

    /// Anneals `optimizer`'s rate down to `minimum` over `maxEpochs` (positive) epochs.
    public init(_ optimizer: Optimizer, maxEpochs: Int, minimum: Double = 0) {
        precondition(maxEpochs > 0, "CosineAnnealingLR: maxEpochs must be positive")
        (self.maxEpochs, self.minimum) = (maxEpochs, minimum)
        super.init(optimizer)
    }

    public override func learningRate(at epoch: Int) -> Double {
        minimum + (Double(baseLearningRate) - minimum) * (1 + cos(Double.pi * Double(epoch) / Double(maxEpochs))) / 2
    }
}

/// Scales the rate linearly from `startFactor` to `endFactor` over `totalEpochs`, then keeps
/// `endFactor` (`LinearLR`; a linear warm-up with the defaults' shape).
public final class LinearLR: LearningRateSchedule {
    /// The factor of the base rate at epoch 0 (positive).
    public let startFactor: Double
    /// The factor of the base rate from `totalEpochs` on.
    public let endFactor: Double
    /// The epochs over which the factor moves from `startFactor` to `endFactor`.
    public let totalEpochs: Int

    /// Scales `optimizer`'s rate linearly with PyTorch's defaults (1/3 up to 1 over 5 epochs).
    public init(_ optimizer: Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalEpochs: Int = 5) {
        precondition(totalEpochs > 0 && startFactor > 0, "LinearLR: totalEpochs and startFactor must be positive")
        (self.startFactor, self.endFactor, self.totalEpochs) = (startFactor, endFactor, totalEpochs)
        super.init(optimizer)
    }

    public override func learningRate(at epoch: Int) -> Double {
        Double(baseLearningRate) * (startFactor + (endFactor - startFactor) * Double(min(epoch, totalEpochs)) / Double(totalEpochs))
    }
}

/// Scales gradients in place so that their joint norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`; returns the norm before clipping. Parameters without a
/// gradient are skipped; `normType` may be `.infinity`.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float, normType: Float = 2) -> Float {
    let grads = parameters.compactMap(\.grad).map { $0.isContiguous ? $0 : $0.copy() }
    var total: Double = 0
    for g in grads {
        let p = g.floats
        for i in 0..<g.count {
            let a = Double(abs(p[i]))
            total = normType.isInfinite ? max(total, a) : total + pow(a, Double(normType))
        }
    }
    let norm = Float(normType.isInfinite ? total : pow(total, 1 / Double(normType)))
    let coefficient = maxNorm / (norm + 1e-6)
    guard coefficient < 1 else { return norm }
    for (parameter, g) in zip(parameters.filter { $0.grad != nil }, grads) {
        for i in 0..<g.count { g.floats[i] *= coefficient }
        parameter.grad = g
    }
    return norm
}
