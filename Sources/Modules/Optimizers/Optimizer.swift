#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Tensors
import TraceRuntime

/// Updates parameters from their gradients. `step()` and `zeroGrad()` are traced as
/// optimizer spans (`Optimizer.step#SGD.step`, as PyTorch names them).
open class Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    /// Called after every `step()`; the profiler uses it to count steps when the program
    /// does not call `Profiler.step()` itself (like PyTorch's step tracker).
    public static var stepObserver: (@Sendable (Optimizer) -> Void)? {
        get { observer.withLock { $0 } }
        set { observer.withLock { $0 = newValue } }
    }
    private static let observer = Mutex<(@Sendable (Optimizer) -> Void)?>(nil)

    private lazy var stepName = SessionName("Optimizer.step#\(typeName).step")
    private lazy var zeroGradName = SessionName("Optimizer.zero_grad#\(typeName).zero_grad")

    public init(parameters: [Tensor], learningRate: Float) {
        for p in parameters {
            precondition(p.isContiguous, "optimizer parameters must be contiguous, got a view of shape \(Tensor.format(p.shape))")
        }
        self.parameters = parameters
        self.learningRate = learningRate
    }

    public var typeName: String { String(describing: type(of: self)) }

    /// Applies one update to every parameter that has a gradient.
    public final func step() {
        let token = TraceFlags.current.contains(.spans) ? SpanTracer.begin(.optimizer, subject: stepName.id()) : -1
        for (index, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            let grad = g.isContiguous ? g : g.copy()
            update(index, p.floats, grad.floats, p.count)
        }
        finishStep()
        StateChecks.optimizerStepped(parameters: parameters)
        SpanTracer.end(token)
        Optimizer.stepObserver?(self)
    }

    /// Drops every gradient (PyTorch's `zero_grad(set_to_none=True)`).
    public final func zeroGrad() {
        let token = TraceFlags.current.contains(.spans) ? SpanTracer.begin(.optimizer, subject: zeroGradName.id()) : -1
        for p in parameters { p.grad = nil }
        SpanTracer.end(token)
    }

    /// Updates parameter `index` (`count` values at `value`) from its gradient.
    open func update(_ index: Int, _ value: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>, _ count: Int) {
        preconditionFailure("\(typeName) must override update(_:_:_:_:)")
    }

    /// Called once per step after every parameter was updated.
    open func finishStep() {}

    /// A zero tensor per parameter, for optimizer state.
    func zerosLikeParameters() -> [Tensor] { parameters.map { Tensor.zeros($0.shape) } }
}

/// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch semantics).
public final class SGD: Optimizer {
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool
    private lazy var buffers = zerosLikeParameters()
    private var started = false

    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override func update(_ index: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ n: Int) {
        let (lr, wd, mu) = (learningRate, weightDecay, momentum)
        if mu == 0 {
            for i in 0..<n { p[i] -= lr * (g[i] + wd * p[i]) }
            return
        }
        let b = buffers[index].floats
        let damp = started ? 1 - dampening : 1
        // Separate loops without branches, so that they vectorize.
        if nesterov {
            for i in 0..<n {
                let d = g[i] + wd * p[i]
                b[i] = mu * b[i] + damp * d
                p[i] -= lr * (d + mu * b[i])
            }
        } else {
            for i in 0..<n {
                let d = g[i] + wd * p[i]
                b[i] = mu * b[i] + damp * d
                p[i] -= lr * b[i]
            }
        }
    }

    public override func finishStep() { started = true }
}

/// Adam, or AdamW with `decoupledWeightDecay` (PyTorch semantics).
public class Adam: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    let decoupled: Bool
    private lazy var m = zerosLikeParameters()
    private lazy var v = zerosLikeParameters()
    private var t: Float = 1

    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0) {
        (self.beta1, self.beta2, self.eps, self.weightDecay) = (beta1, beta2, eps, weightDecay)
        decoupled = false
        super.init(parameters: parameters, learningRate: learningRate)
    }

    init(decoupled parameters: [Tensor], learningRate: Float, beta1: Float, beta2: Float, eps: Float,
         decoupledWeightDecay: Float) {
        (self.beta1, self.beta2, self.eps, weightDecay) = (beta1, beta2, eps, decoupledWeightDecay)
        decoupled = true
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override func update(_ index: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ n: Int) {
        let mi = m[index].floats, vi = v[index].floats
        let c1 = 1 - powf(beta1, t), c2 = 1 - powf(beta2, t)
        let (lr, wd, b1, b2) = (learningRate, weightDecay, beta1, beta2)
        for i in 0..<n {
            if decoupled { p[i] -= lr * wd * p[i] }
            let gi = decoupled ? g[i] : g[i] + wd * p[i]
            mi[i] = b1 * mi[i] + (1 - b1) * gi
            vi[i] = b2 * vi[i] + (1 - b2) * gi * gi
            p[i] -= lr * (mi[i] / c1) / ((vi[i] / c2).squareRoot() + eps)
        }
    }

    public override func finishStep() { t += 1 }
}

/// Adam with decoupled weight decay (default 0.01, as PyTorch's AdamW).
public final class AdamW: Adam {
    public override init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0.01) {
        super.init(decoupled: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
                   decoupledWeightDecay: weightDecay)
    }
}

