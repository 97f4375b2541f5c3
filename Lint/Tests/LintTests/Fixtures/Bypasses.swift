// Each call below skips a module's call wrapper.
import Modules
import Tensors

final class Net: Module<Tensor, Tensor> {
    let fc1 = Linear(4, 8)
    let act = ReLU()
    let fc2 = Linear(8, 2)

    override func forward(_ x: Tensor) throws -> Tensor {
        let h = try act(fc1(x))
        return try fc2.forward(h)
    }

    func predict(_ x: Tensor) throws -> Tensor {
        try self.forward(x)
    }

    func logits(_ x: Tensor) throws -> Tensor {
        try forward(x)
    }

    func hidden(_ x: Tensor) throws -> Tensor {
        try self.fc1.forward(
            x
        )
    }
}

final class Scaled: Linear {
    func twice(_ x: Tensor) throws -> Tensor {
        try super.forward(x) * 2
    }
}

func evaluate(_ model: Net, _ batches: [Tensor]) throws -> [Tensor] {
    try batches.map { try model.forward($0) }
}
