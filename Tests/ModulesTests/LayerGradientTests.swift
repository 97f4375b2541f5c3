import Testing
import Modules
import Tensors

@Suite("Layer gradients match finite differences")
struct LayerGradientTests {
    @Test func linearAndConv() throws {
        try gradCheck(Linear(3, 2), [random([2, 3])]) { m, x in try m(x[0]) }
        try gradCheck(Conv2d(2, 3, kernelSize: 3, padding: 1), [random([1, 2, 4, 4])]) { m, x in try m(x[0]) }
    }

    @Test func normsAndEmbedding() throws {
        try gradCheck(LayerNorm(4), [random([3, 4], in: -2...2)]) { m, x in try m(x[0]) }
        try gradCheck(BatchNorm2d(2), [random([2, 2, 2, 2], in: -2...2)]) { m, x in try m(x[0]) }
        try gradCheck(Embedding(5, 3), []) { m, _ in try m(Tensor(indices: [0, 4, 4], shape: [3])) }
    }

    @Test func attentionWithMask() throws {
        try gradCheck(MultiheadSelfAttention(dimension: 4, heads: 2), [random([1, 3, 4])]) { m, x in
            try m(AttentionInput(x[0], mask: AttentionInput.causalMask(3)))
        }
    }

    @Test func poolingActivationsAndContainers() throws {
        try gradCheck(Sequential(Conv2d(1, 2, kernelSize: 2), AvgPool2d(2), Flatten(), Tanh(), Linear(8, 2), GELU(), Sigmoid()),
                      [random([1, 1, 5, 5])]) { m, x in try m(x[0]) }
        let x = Tensor((0..<16).map { Float(($0 * 5) % 16) }, shape: [1, 1, 4, 4])
        try gradCheck(MaxPool2d(2), [x]) { m, x in try m(x[0]) }
    }

    @Test func losses() throws {
        try gradCheck(CrossEntropyLoss(), [random([3, 4])]) { m, x in try m(x[0], Tensor(indices: [1, 0, 3], shape: [3])) }
        try gradCheck(MSELoss(), [random([3]), random([3], seed: 4)]) { m, x in try m(x[0], x[1]) }
    }
}
