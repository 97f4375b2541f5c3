import Modules
import Tensors
import Testing

/// Least squares: find W with W·x = y for a known W*. The loss is convex with minimum 0.
func leastSquares(_ make: ([Tensor]) -> Optimizer, steps: Int) throws -> Float {
    let target = Tensor([1, -2, 0.5, 3, 0, -1], shape: [2, 3])
    let x = random([3, 16], seed: 3)
    let y = try target.matmul(x)
    let w = Tensor.zeros([2, 3]).asParameter()
    let optimizer = make([w])
    var loss: Float = .infinity
    for _ in 0..<steps {
        optimizer.zeroGrad()
        let l = try Tensor.mse(try w.matmul(x), y)
        loss = l.item
        try l.backward()
        optimizer.step()
    }
    return loss
}

@Suite("Optimizers on a convex problem")
struct OptimizerTests {
    @Test func sgd() throws {
        #expect(try leastSquares({ SGD(parameters: $0, learningRate: 0.5) }, steps: 400) < 1e-4)
        #expect(try leastSquares({ SGD(parameters: $0, learningRate: 0.2, momentum: 0.9) }, steps: 200) < 1e-4)
        #expect(try leastSquares({ SGD(parameters: $0, learningRate: 0.2, momentum: 0.9, nesterov: true) }, steps: 200) < 1e-4)
    }

    @Test func adamAndAdamW() throws {
        #expect(try leastSquares({ Adam(parameters: $0, learningRate: 0.05) }, steps: 400) < 1e-4)
        // Decoupled weight decay pulls away from the exact solution, but only a little.
        let decayed = try leastSquares({ AdamW(parameters: $0, learningRate: 0.05, weightDecay: 0.01) }, steps: 400)
        #expect(decayed < 1e-2 && decayed > 0)
    }

    @Test func sgdMatchesPyTorchOnOneStep() throws {
        // torch: p=1, g=0.5 -> buf=0.5+0.1*1 (wd) = 0.6; p = 1 - 0.1*0.6 = 0.94; step 2 buf = 0.9*0.6 + 0.5 + 0.094 = 1.134
        let p = Tensor([1]).asParameter()
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        p.grad = Tensor([0.5])
        sgd.step()
        #expect(abs(p.scalars[0] - 0.94) < 1e-6)
        p.grad = Tensor([0.5])
        sgd.step()
        #expect(abs(p.scalars[0] - (0.94 - 0.1 * 1.134)) < 1e-6)
    }
}
