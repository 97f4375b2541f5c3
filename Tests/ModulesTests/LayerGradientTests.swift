import Modules
import Tensors
import Testing

@Suite("Layer gradients match finite differences")
struct LayerGradientTests {
    @Test func linearAndConv() throws {
        try gradCheck(Linear(3, 2), [random([2, 3])]) { m, x in try m(x[0]) }
        try gradCheck(Conv2d(2, 3, kernelSize: 3, padding: 1), [random([1, 2, 4, 4])]) { m, x in try m(x[0]) }
    }

    @Test func convolutionAndPoolingOptions() throws {
        try gradCheck(Conv2d(2, 4, kernelSize: [3, 2], stride: [2, 1], padding: [1, 2], dilation: [2, 1]), [random([1, 2, 6, 5])]) { m, x in
            try m(x[0])
        }
        try gradCheck(Conv2d(4, 4, kernelSize: 2, padding: .same, groups: 4), [random([1, 4, 3, 4])]) { m, x in try m(x[0]) }
        try gradCheck(Conv2d(4, 2, kernelSize: 3, padding: .same, groups: 2), [random([1, 4, 3, 3])]) { m, x in try m(x[0]) }
        try gradCheck(AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false), [random([1, 1, 5, 6])]) { m, x in
            try m(x[0])
        }
        try gradCheck(AdaptiveAvgPool2d([2, 3]), [random([1, 2, 5, 4])]) { m, x in try m(x[0]) }
        let distinct = Tensor((0..<30).map { Float(($0 * 7) % 30) }, shape: [1, 1, 5, 6])
        try gradCheck(MaxPool2d([2, 3], stride: 2, padding: 1, ceilMode: true), [distinct]) { m, x in try m(x[0]) }
        #expect(throws: ModuleError.self) { try Conv2d(1, 1, kernelSize: 3, stride: 2, padding: .same)(random([1, 1, 4, 4])) }
        #expect(throws: ModuleError.self) { try Conv2d(1, 1, kernelSize: 3)(random([1, 1, 2, 2])) }
        #expect(
            Conv2d(4, 4, kernelSize: [3, 1], padding: .same, groups: 4, bias: false).treeDescription
                == "Conv2d(4, 4, kernel_size=(3, 1), stride=(1, 1), padding=same, groups=4, bias=False)")
    }

    @Test func normsAndEmbedding() throws {
        try gradCheck(LayerNorm(4), [random([3, 4], in: -2...2)]) { m, x in try m(x[0]) }
        try gradCheck(BatchNorm2d(2), [random([2, 2, 2, 2], in: -2...2)]) { m, x in try m(x[0]) }
        try gradCheck(Embedding(5, 3), []) { m, _ in try m(Tensor(indices: [0, 4, 4], shape: [3])) }
    }

    @Test func normOptions() throws {
        try gradCheck(LayerNorm(normalizedShape: [2, 3]), [random([2, 2, 3], in: -2...2)]) { m, x in try m(x[0]) }
        try gradCheck(LayerNorm(4, elementwiseAffine: false), [random([3, 4], in: -2...2)]) { m, x in try m(x[0]) }
        try gradCheck(LayerNorm(4, bias: false), [random([3, 4], in: -2...2)]) { m, x in try m(x[0]) }
        try gradCheck(BatchNorm1d(2), [random([3, 2, 4], in: -2...2)]) { m, x in try m(x[0]) }
        try gradCheck(BatchNorm1d(2, affine: false), [random([4, 2], in: -2...2)]) { m, x in try m(x[0]) }
        let noStats = BatchNorm2d(2, trackRunningStats: false)
        noStats.eval()  // batch statistics in eval too: the training gradient
        try gradCheck(noStats, [random([2, 2, 2, 2], in: -2...2)]) { m, x in try m(x[0]) }
        let padded = Embedding(5, 3, paddingIndex: 4)
        #expect(Array(padded.weight.scalars[12...]) == [0, 0, 0])
        try gradCheck(padded, []) { m, _ in try m(Tensor(indices: [0, 3, 3, 2], shape: [4])) }
        let out = try padded(Tensor(indices: [4, 1], shape: [2]))
        try out.sum().backward()
        #expect(Array(padded.weight.grad!.scalars[12...]) == [0, 0, 0], "the padding row gets no gradient")
    }

    @Test func rmsAndGroupNorm() throws {
        try gradCheck(RMSNorm(4), [random([3, 4], in: -2...2)]) { m, x in try m(x[0]) }
        try gradCheck(GroupNorm(groups: 2, channels: 4), [random([2, 4, 3], in: -2...2)]) { m, x in try m(x[0]) }
        #expect(throws: ModuleError.self) { try GroupNorm(groups: 2, channels: 4)(random([2, 3, 3])) }
    }

    @Test func activationOptionsAndFlatten() throws {
        try gradCheck(GELU(approximate: .tanh), [random([6], in: -3...3)]) { m, x in try m(x[0]) }
        try gradCheck(SiLU(), [random([6], in: -3...3)]) { m, x in try m(x[0]) }
        try gradCheck(Sequential(Softmax(axis: 1), LogSoftmax(axis: 0), Identity()), [random([2, 3], in: -2...2)]) { m, x in try m(x[0]) }
        let flat = try Flatten(startAxis: 1, endAxis: 2)(random([2, 3, 4, 5]))
        #expect(flat.shape == [2, 12, 5])
        #expect(try Flatten(startAxis: 0, endAxis: -2)(random([2, 3, 4])).shape == [6, 4])
        #expect(throws: ModuleError.self) { try Flatten(startAxis: 2, endAxis: 1)(random([2, 3, 4])) }
        #expect(GELU(approximate: .tanh).treeDescription == "GELU(approximate='tanh')")
    }

    @Test func attentionWithMask() throws {
        try gradCheck(MultiheadSelfAttention(dimension: 4, heads: 2), [random([1, 3, 4])]) { m, x in
            try m(AttentionInput(x[0], mask: AttentionInput.causalMask(3)))
        }
    }

    @Test func attentionOptions() throws {
        try gradCheck(
            MultiheadSelfAttention(dimension: 4, heads: 2), [random([1, 2, 4]), random([1, 3, 4], seed: 2), random([1, 3, 4], seed: 3)]
        ) { m, x in
            try m(AttentionInput(x[0], key: x[1], value: x[2], keyPaddingMask: Tensor(indices: [0, 1, 0], shape: [1, 3]), isCausal: true))
        }
        // Dropout on the attention weights: training draws a mask, eval is deterministic.
        let attention = MultiheadSelfAttention(dimension: 4, heads: 1, dropout: 0.5)
        let x = random([1, 6, 4])
        attention.eval()
        #expect(try attention(AttentionInput(x)).scalars == attention(AttentionInput(x)).scalars)
        attention.train()
        #expect(try attention(AttentionInput(x)).scalars != attention(AttentionInput(x)).scalars)
        #expect(throws: ModuleError.self) { try attention(AttentionInput(x, keyPaddingMask: Tensor(indices: [0, 1], shape: [1, 2]))) }
    }

    @Test func poolingActivationsAndContainers() throws {
        try gradCheck(
            Sequential(Conv2d(1, 2, kernelSize: 2), AvgPool2d(2), Flatten(), Tanh(), Linear(8, 2), GELU(), Sigmoid()),
            [random([1, 1, 5, 5])]
        ) { m, x in try m(x[0]) }
        let x = Tensor((0..<16).map { Float(($0 * 5) % 16) }, shape: [1, 1, 4, 4])
        try gradCheck(MaxPool2d(2), [x]) { m, x in try m(x[0]) }
    }

    @Test func losses() throws {
        try gradCheck(CrossEntropyLoss(), [random([3, 4])]) { m, x in try m(x[0], Tensor(indices: [1, 0, 3], shape: [3])) }
        try gradCheck(MSELoss(), [random([3]), random([3], seed: 4)]) { m, x in try m(x[0], x[1]) }
        try gradCheck(CrossEntropyLoss(weight: Tensor([1, 2, 0.5, 1]), ignoreIndex: 0, labelSmoothing: 0.1), [random([3, 4])]) { m, x in
            try m(x[0], Tensor(indices: [1, 0, 3], shape: [3]))
        }
        try gradCheck(BCEWithLogitsLoss(positiveWeight: Tensor([3, 1])), [random([3, 2])]) { m, x in
            try m(x[0], Tensor([1, 0, 0, 1, 1, 1], shape: [3, 2]))
        }
    }
}
