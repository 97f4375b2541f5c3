// A receiver whose type the file declares as something other than a module is not reported.
import Modules
import Tensors

enum Direction {
    case up, down
    func forward(_ n: Int) -> Int { n }
}

struct Heading {
    func forward(_ degrees: Int) -> Int { degrees }
}

struct Cursor {
    var position = 0
    mutating func forward(_ n: Int) { position += n }
    mutating func skip(_ n: Int) {
        forward(n)
        self.forward(n)
    }
}

final class Tape {
    func forward(_ n: Int) {}
    func twice() {
        forward(1)
        self.forward(2)
    }
}

final class Recorder: CustomStringConvertible {
    var description: String { "recorder" }
    func forward(_ n: Int) {}
    func again() { forward(1) }
}

protocol Stepper {
    func forward(_ n: Int)
}

extension Stepper {
    func twice() { forward(1) }
}

typealias Ticker = Tape

class Block: Module<Tensor, Tensor> {}
final class Deeper: Block {}

final class Net: Module<Tensor, Tensor> {
    let fc = Linear(2, 2)
    var cursor: Cursor
    let tape = Tape()
    let ticker: Ticker? = nil
    let deeper = Deeper()
    var other: SomeLibraryModule

    init(cursor: Cursor, other: SomeLibraryModule) {
        self.cursor = cursor
        self.other = other
    }

    override func forward(_ x: Tensor) throws -> Tensor {
        let d = Direction.up
        _ = d.forward(1)
        let h = Heading()
        _ = h.forward(90)
        var c = cursor
        c.forward(1)
        cursor.forward(1)
        self.cursor.forward(2)
        tape.forward(3)
        ticker?.forward(4)
        if let t = ticker { t.forward(5) }
        let steps = [1, 2]
        _ = steps.forward(1)
        _ = try deeper.forward(x)
        _ = try other.forward(x)
        return try fc.forward(x)
    }

    func shadowed(_ fc: Cursor) {
        var fc = fc
        fc.forward(1)
    }
}

func local(_ x: Tensor) throws -> Tensor {
    let d = Heading()
    _ = d.forward(1)
    let fc = Linear(2, 2)
    return try fc.forward(x)
}

func generic<M: Linear, N>(_ m: M, _ n: N) throws -> Tensor where N: Module<Tensor, Tensor> {
    _ = try n.forward(Tensor([1]))
    return try m.forward(Tensor([1]))
}
