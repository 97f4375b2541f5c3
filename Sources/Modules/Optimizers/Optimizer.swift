import Synchronization
import Tensors
import TraceRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// Updates parameters from their gradients. `step()` and `zeroGrad()` are traced as
/// optimizer spans (`Optimizer.step#SGD.step`, as PyTorch names them).
open class Optimizer {
    /// The tensors updated, each contiguous; indices match the per-parameter state.
    public let parameters: [Tensor]
    /// The step size; schedules set it between steps.
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

    /// An optimizer of `parameters` (which must be contiguous) at `learningRate`.
    public init(parameters: [Tensor], learningRate: Float) {
        for p in parameters {
            precondition(p.isContiguous, "optimizer parameters must be contiguous, got a view of shape \(Tensor.format(p.shape))")
        }
        self.parameters = parameters
        self.learningRate = learningRate
    }

    /// The optimizer's class name (`SGD`), as used in its span names.
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

    /// Updates parameter `index` (`count` values at `value`) from its gradient. Called only
    /// for parameters that have a gradient this step; state is kept per parameter, as
    /// `torch.optim` does, so a parameter first updated late starts from its own step 1.
    open func update(_ index: Int, _ value: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>, _ count: Int) {
        preconditionFailure("\(typeName) must override update(_:_:_:_:)")
    }

    /// Called once per step after every parameter was updated.
    open func finishStep() {}

    /// Parameter `index`'s state under torch's names (`step`, `exp_avg`, `momentum_buffer`, ...),
    /// empty before its first update. Subclasses with state override it and `restoreState`.
    open func state(of index: Int) -> [String: Tensor] { [:] }

    /// Replaces parameter `index`'s state with `state` (as `state(of:)` returns it), or drops
    /// it when `state` is empty. Throws when a tensor is missing or has the wrong shape.
    open func restoreState(of index: Int, _ state: [String: Tensor]) throws {}
}
