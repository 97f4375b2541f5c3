// `forward` passed as a function value skips the wrapper whenever it is called.
import Modules
import Tensors

func checkpoint(_ f: (Tensor) throws -> Tensor, _ x: Tensor) rethrows -> Tensor { try f(x) }

final class Net: Module<Tensor, Tensor> {
    let fc = Linear(4, 4)
    let layer = Linear(4, 4)

    override func forward(_ x: Tensor) throws -> Tensor {
        let h = try checkpoint(layer.forward, x)
        let f = fc.forward
        return try f(h)
    }

    func batch(_ xs: [Tensor]) throws -> [Tensor] {
        try xs.map(fc.forward)
    }

    func explicit() -> (Tensor) throws -> Tensor {
        fc.forward(_:)
    }

    func own(_ xs: [Tensor]) throws -> [Tensor] {
        try xs.map(self.forward)
    }

    func bare(_ xs: [Tensor]) throws -> [Tensor] {
        try xs.map(forward)
    }

    func assigned() {
        var g: ((Tensor) throws -> Tensor)?
        g = fc.forward
        _ = g
    }

    func listed() -> [(Tensor) throws -> Tensor] { [fc.forward, layer.callAsFunction] }

    func returned() -> (Tensor) throws -> Tensor { return layer.forward }
}

final class Scaled: Linear {
    func twice(_ xs: [Tensor]) throws -> [Tensor] {
        try xs.map(super.forward)
    }

    override func forward(_ x: Tensor) throws -> Tensor {
        // Inside forward, passing super.forward or self.forward along is the override's business.
        let viaSuper = try checkpoint(super.forward, x)
        _ = self.forward
        return viaSuper
    }
}

// Look-alikes: the wrapper passed as a function, other methods named forward.
func wrapped(_ net: Net, _ xs: [Tensor]) throws -> [Tensor] {
    let viaWrapper = try xs.map(net.callAsFunction)
    let viaClosure = try xs.map { try net($0) }
    let other = net.forward(input:)
    _ = other
    return viaWrapper + viaClosure
}
