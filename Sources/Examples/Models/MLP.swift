import Modules
import Tensors

/// The benchmark MLP: 784-256-256-10 with ReLU (the same layer names as the PyTorch anchor).
package final class MLP: Module<Tensor, Tensor> {
    package let fc1: Linear
    package let act1 = ReLU()
    package let fc2: Linear
    package let act2 = ReLU()
    package let fc3: Linear
    /// When set, `forward` calls `fc3.forward` directly: a bypass the tracer must expose.
    package var bypassLastLayer = false

    package init(inputs: Int = 784, hidden: Int = 256, classes: Int = 10) {
        fc1 = Linear(inputs, hidden)
        fc2 = Linear(hidden, hidden)
        fc3 = Linear(hidden, classes)
        super.init()
    }

    package override func forward(_ x: Tensor) throws -> Tensor {
        let h = try act2(fc2(act1(fc1(x))))
        return bypassLastLayer ? try fc3.forward(h) : try fc3(h)
    }
}
