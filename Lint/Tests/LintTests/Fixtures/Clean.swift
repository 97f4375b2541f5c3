// Nothing here bypasses a wrapper.
import Modules
import Tensors

enum Direction { case forward(Int), backward }

final class Doubled: Linear {
    override func forward(_ x: Tensor) throws -> Tensor {
        try super.forward(x) * 2  // super.forward inside an override of forward is how subclasses extend it
    }
}

final class Net: Module<Tensor, Tensor> {
    let fc = Doubled(2, 2)
    var steps = 0

    // fc.forward(x) in a comment is not a call.
    override func forward(_ x: Tensor) throws -> Tensor {
        let note = "fc.forward(x) in a string is not a call"
        _ = note
        return try fc(x)
    }

    func move(forward: Int) -> Direction { .forward(forward) }

    func directions() -> [Direction] { [Direction.forward(1), .backward, move(forward: 2)] }
}

protocol Forwarding {
    func forward(_ x: Int) -> Int
}

/// A local or parameter named `forward` is not the module's method.
final class Runner: Module<Tensor, Tensor> {
    func run(_ forward: (Tensor) -> Tensor, _ x: Tensor) -> Tensor { forward(x) }

    func local(_ x: Tensor) -> Tensor {
        let forward = { (t: Tensor) in t }
        return forward(x)
    }

    func closure(_ xs: [Tensor]) -> [Tensor] {
        xs.map { forward in forward }
    }

    override func forward(_ x: Tensor) throws -> Tensor {
        let next = try self.forward
        _ = next
        return x
    }
}

func vectors(_ position: inout Double, _ speed: Double, _ body: Body) {
    position += body.forward * speed
    body.forward = 1
}

/// A local function inside forward runs as part of forward.
final class Wrapped: Linear {
    override func forward(_ x: Tensor) throws -> Tensor {
        func base(_ t: Tensor) throws -> Tensor { try super.forward(t) }
        return try base(x) * 2
    }
}

/// Generic parameters: unconstrained ones have no members, constrained ones have their protocol's.
protocol Stepping {
    func forward(_ n: Int)
}

func run<T: Stepping, U>(_ t: T, _ u: U, _ s: some Stepping, _ a: any Stepping) {
    t.forward(1)
    s.forward(2)
    a.forward(3)
    _ = u
}

final class Legacy: NSObject {
    func forward(_ n: Int) {}
    func again() { forward(1) }
}
