import Foundation
import Modules
import Profiler
import Tensors
import Testing

// Models written the way people write training code: some with a planted bug, some that look
// like one and are correct. `FindingsCorpusTests` runs each and expects its exact findings.

/// One corpus entry: a name, the run, and the findings it must produce (empty for clean code).
struct CorpusCase: CustomTestStringConvertible, Sendable {
    let name: String
    let expected: [String]
    let run: @Sendable (Profiler) throws -> Void
    var testDescription: String { name }
}

/// A user module with its own parameter.
final class Scale: Module<Tensor, Tensor> {
    let weight = Tensor.ones([3]).asParameter()
    override func forward(_ x: Tensor) throws -> Tensor { try x * weight }
}

/// A user block: no parameters of its own, built-in children.
final class Block: Module<Tensor, Tensor> {
    let fc = Linear(3, 3)
    let act = ReLU()
    override func forward(_ x: Tensor) throws -> Tensor { try act(fc(x)) }
}

final class TwoBlocks: Module<Tensor, Tensor> {
    let first = Block()
    let second = Block()
    var bypassSecond = false
    override func forward(_ x: Tensor) throws -> Tensor {
        let h = try first(x)
        return bypassSecond ? try second.forward(h) : try second(h)
    }
}

final class Classifier: Module<Tensor, Tensor> {
    let fc1 = Linear(3, 4)
    let act = ReLU()
    let drop = Dropout(0.5)
    let fc2 = Linear(4, 2)
    override func forward(_ x: Tensor) throws -> Tensor { try fc2(drop(act(fc1(x)))) }

    /// A helper people write; calling `forward` here skips the model's own wrapper.
    func predict(_ x: Tensor) throws -> Tensor { try forward(x) }
    /// The right way.
    func predictThroughWrapper(_ x: Tensor) throws -> Tensor { try self(x) }
}

final class Normalized: Module<Tensor, Tensor> {
    let fc = Linear(3, 4)
    let norm = BatchNorm1d(4)
    override func forward(_ x: Tensor) throws -> Tensor { try norm(fc(x)) }
}

final class Tied: Module<Tensor, Tensor> {
    let embedding = Embedding(10, 3)
    let norm = LayerNorm(3)
    /// A language-model head: logits from the embedding's weight, used functionally.
    override func forward(_ ids: Tensor) throws -> Tensor {
        try norm(embedding(ids)).matmul(embedding.weight.transposed())
    }
}

final class Stack: Module<Tensor, Tensor> {
    let layers = ModuleList([Linear(3, 3), Linear(3, 3), Linear(3, 3)])
    let seq = Sequential(Linear(3, 3), ReLU(), Linear(3, 3))
    var mode = 0
    override func forward(_ x: Tensor) throws -> Tensor {
        var h = x
        switch mode {
        case 0:  // clean: each element through its wrapper
            for layer in layers { h = try layer(h) }
            for layer in seq.layers { h = try layer(h) }
        case 1:  // bug: ModuleList elements' forward
            for layer in layers { h = try layer.forward(h) }
        default:  // bug: the Sequential's forward
            h = try seq.forward(h)
        }
        return h
    }
}

final class DictModel: Module<Tensor, Tensor> {
    /// Kept where the module tree does not look: not registered, not in parameters().
    let heads: [String: Linear] = ["a": Linear(3, 2)]
    let body = Linear(3, 3)
    override func forward(_ x: Tensor) throws -> Tensor { try heads["a"]!(body(x)) }
}

struct HeadPair { let left = Linear(3, 2) }

final class StructModel: Module<Tensor, Tensor> {
    let pair = HeadPair()
    let body = Linear(3, 3)
    override func forward(_ x: Tensor) throws -> Tensor { try pair.left(body(x)) }
}

final class OptionalHead: Module<Tensor, Tensor> {
    let body = Linear(3, 3)
    let head: Linear? = Linear(3, 2)
    override func forward(_ x: Tensor) throws -> Tensor { try head.map { try $0(body(x)) } ?? body(x) }
}

final class ScaledModel: Module<Tensor, Tensor> {
    let scale = Scale()
    let fc = Linear(3, 3)
    var bypass = false
    override func forward(_ x: Tensor) throws -> Tensor { try fc(bypass ? scale.forward(x) : scale(x)) }
}

/// Passes its own parameter to a child: the child reads it while this module's wrapper is open.
final class Gated: Module<Tensor, Tensor> {
    final class Mix: Module<Pair<Tensor, Tensor>, Tensor> {
        override func forward(_ p: Pair<Tensor, Tensor>) throws -> Tensor { try p.first * p.second }
    }
    let gate = Tensor.ones([3]).asParameter()
    let mix = Mix()
    override func forward(_ x: Tensor) throws -> Tensor { try mix(Pair(x, gate)) }
}

final class SharedChild: Module<Tensor, Tensor> {
    let a = Linear(3, 3)
    let b: Linear
    override init() {
        b = a
        super.init()
    }
    override func forward(_ x: Tensor) throws -> Tensor { try b(a(x)) }
}

final class Conditional: Module<Tensor, Tensor> {
    let fc = Linear(3, 3)
    let act = ReLU()
    var bypassNow = false
    override func forward(_ x: Tensor) throws -> Tensor { try act(bypassNow ? fc.forward(x) : fc(x)) }
}

final class ConvNet: Module<Tensor, Tensor> {
    let conv = Conv2d(1, 2, kernelSize: 3, padding: 1)
    let flatten = Flatten()
    override func forward(_ x: Tensor) throws -> Tensor { try flatten(conv.forward(x)) }
}

final class AttentionModel: Module<Tensor, Tensor> {
    let attention = MultiheadSelfAttention(dimension: 4, heads: 2)
    let norm = LayerNorm(4)
    var bypass = false
    override func forward(_ x: Tensor) throws -> Tensor {
        let input = AttentionInput(x)
        return try norm(bypass ? attention.forward(input) : attention(input))
    }
}

final class Encoder: Module<Tensor, Tensor> {
    let encoder = Block()
    let decoder = Linear(3, 2)
    override func forward(_ x: Tensor) throws -> Tensor { try decoder(encoder(x)) }
}

/// A model with a layer created inside `forward`, a fresh module on every call.
final class MakesLayers: Module<Tensor, Tensor> {
    let fc = Linear(3, 3)
    override func forward(_ x: Tensor) throws -> Tensor { try Tanh()(fc(x)) }
}

final class LayerNormBypass: Module<Tensor, Tensor> {
    let fc = Linear(3, 3)
    let norm = LayerNorm(3)
    override func forward(_ x: Tensor) throws -> Tensor { try norm.forward(fc(x)) }
}

final class EmbeddingBypass: Module<Tensor, Tensor> {
    let embedding = Embedding(10, 3)
    let fc = Linear(3, 2)
    override func forward(_ ids: Tensor) throws -> Tensor { try fc(embedding.forward(ids)) }
}

final class DropoutBypass: Module<Tensor, Tensor> {
    let fc = Linear(3, 3)
    let drop = Dropout(0.1)
    override func forward(_ x: Tensor) throws -> Tensor { try drop.forward(fc(x)) }
}

/// Calls a block's `forward` from a helper method of the block's parent.
final class HelperBypass: Module<Tensor, Tensor> {
    let block = Block()
    let out = Linear(3, 2)
    func features(_ x: Tensor) throws -> Tensor { try block.forward(x) }
    override func forward(_ x: Tensor) throws -> Tensor { try out(features(x)) }
}

/// Two different models that both have a child named `fc`.
final class ModelA: Module<Tensor, Tensor> {
    let fc = Linear(3, 3)
    let act = ReLU()
    override func forward(_ x: Tensor) throws -> Tensor { try act.forward(fc(x)) }
}

final class ModelB: Module<Tensor, Tensor> {
    let fc = Linear(3, 3)
    let act = ReLU()
    override func forward(_ x: Tensor) throws -> Tensor { try act(fc(x)) }
}

/// The input most corpus models take.
var x3: Tensor { Tensor.ones([2, 3]) }

/// Sums a model's output into a loss and runs backward.
func trainStep(_ model: Module<Tensor, Tensor>, _ optimizer: Optimizer, _ x: Tensor = x3) throws {
    optimizer.zeroGrad()
    try model(x).sum().backward()
    optimizer.step()
}

/// Runs `body` on a new thread (enrolled in the profiler's thread group) and waits for it.
func onWorkerThread(_ profiler: Profiler, _ body: @escaping @Sendable () throws -> Void) {
    let done = DispatchSemaphore(value: 0)
    let threads = UncheckedBox(profiler.threads)
    Thread.detachNewThread {
        threads.value?.enrollCurrentThread()
        try? body()
        done.signal()
    }
    done.wait()
}

/// Hands non-Sendable models to the corpus closures (each case runs on one thread at a time).
func box<T>(_ value: T) -> UncheckedBox<T> { UncheckedBox(value) }
