// Module.forward(_:) takes exactly one unlabelled argument; other forward calls are something else.
import Modules
import Tensors

final class Net: Module<Tensor, Tensor> {
    let fc = Linear(2, 2)
    var tape: Tape!

    override func forward(_ x: Tensor) throws -> Tensor {
        tape.forward(x, steps: 2)
        tape.forward(x, x)
        tape.forward(by: 3)
        tape.forward()
        tape.forward { $0 }
        tape.forward(x) { $0 }
        tape.forward(x) { $0 } onError: { _ in }
        return try fc.forward((x))
    }

    func helper(_ x: Tensor) throws -> Tensor {
        forward(x, 2)
        self.forward(x, scale: 2)
        return try self.forward(x)
    }
}

final class Scaled: Linear {
    func twice(_ x: Tensor) throws -> Tensor {
        _ = super.forward(x, 2)
        _ = super.forward(x: x)
        return try super.forward(x) * 2
    }
}
