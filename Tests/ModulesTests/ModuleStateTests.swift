import Foundation
import Tensors
import Testing

@testable import Modules

final class Block: Module<Tensor, Tensor> {
    let attn = MultiheadSelfAttention(dimension: 8, heads: 2)
    let norm = LayerNorm(8)
    override func forward(_ x: Tensor) throws -> Tensor {
        try x + attn(AttentionInput(norm(x)))
    }
}

final class Tiny: Module<Tensor, Tensor> {
    let embed = Embedding(10, 8)
    let blocks = [Block(), Block()]
    let head: Linear
    let drop = Dropout(0.5)
    override init() {
        head = Linear(8, 10, bias: false)
        super.init()
        head.weight = embed.weight  // weight tying
    }
    override func forward(_ ids: Tensor) throws -> Tensor {
        var x = try drop(embed(ids))
        for b in blocks { x = try b(x) }
        return try head(x)
    }
}

@Suite("Module state")
struct ModuleStateTests {
    @Test func dottedParameterNamesAndTying() {
        let model = Tiny()
        let names = model.namedParameters().map(\.path)
        #expect(names.contains("blocks.0.attn.qkv.weight"))
        #expect(names.contains("blocks.1.norm.bias"))
        #expect(!names.contains("head.weight"), "a tied weight is listed once, under its first name")
        #expect(names.first == "embed.weight")
        let expected = 10 * 8 + 2 * (8 * 24 + 24 + 8 * 8 + 8 + 8 + 8)
        #expect(model.parameterCount == expected)
        #expect(
            model.namedModules().map(\.path) == [
                "", "embed", "blocks.0", "blocks.0.attn", "blocks.0.attn.qkv", "blocks.0.attn.projection", "blocks.0.norm",
                "blocks.1", "blocks.1.attn", "blocks.1.attn.qkv", "blocks.1.attn.projection", "blocks.1.norm", "head", "drop",
            ])
    }

    @Test func treeDescription() {
        Random.seed(0)
        let model = Sequential(Linear(784, 256), ReLU(), Dropout(0.1), Sequential(Linear(256, 10)))
        #expect(
            model.treeDescription == """
                Sequential(
                  (0): Linear(in_features=784, out_features=256, bias=true)
                  (1): ReLU()
                  (2): Dropout(p=0.1)
                  (3): Sequential(
                    (0): Linear(in_features=256, out_features=10, bias=true)
                  )
                )
                """)
    }

    @Test func trainAndEvalAreRecursiveAndHonoured() throws {
        let model = Tiny()
        model.eval()
        #expect(model.namedModules().allSatisfy { !$0.module.isTraining })
        let x = Tensor.ones([4, 4])
        let dropout = Dropout(0.5)
        dropout.eval()
        #expect(try dropout(x).scalars == x.scalars)
        dropout.train()
        let dropped = try dropout(x).scalars
        #expect(dropped.contains(0) && dropped.contains(2))

        let bn = BatchNorm1d(2)
        let batch = Tensor([1, 10, 3, 30], shape: [2, 2])
        let trained = try bn(batch).scalars
        #expect(abs(trained[0] + 1) < 1e-3 && abs(trained[2] - 1) < 1e-3)
        #expect(bn.runningMean!.scalars == [0.2, 2.0])
        #expect(bn.numBatchesTracked!.item == 1)
        bn.eval()
        let evaluated = try bn(batch).scalars
        #expect(abs(evaluated[0] - (1 - 0.2) / Float(0.9 + 0.1 * 2 + 1e-5).squareRoot()) < 1e-3)
    }

    @Test func saveAndLoadRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let a = Sequential(Linear(3, 4), BatchNorm1d(4))
        _ = try a(random([5, 3]))  // moves the running statistics
        try a.save(to: url)
        let b = Sequential(Linear(3, 4), BatchNorm1d(4))
        try b.load(from: url)
        for ((n1, t1), (n2, t2)) in zip(a.stateDict(), b.stateDict()) {
            #expect(n1 == n2)
            #expect(t1.scalars == t2.scalars, "\(n1)")
        }
        let header = try Data(contentsOf: url)
        #expect(
            header.count == 8 + Int(header.prefix(8).withUnsafeBytes { $0.load(as: UInt64.self) }) + 4 * (12 + 4 + 4 + 4 + 4 + 4) + 8,
            "F32 tensors and an I64 num_batches_tracked")
        let wrong = Sequential(Linear(3, 5), BatchNorm1d(5))
        #expect(throws: StateError.self) { try wrong.load(from: url) }
    }
}
