import Foundation
import Modules
import Tensors
import Testing

/// Every case loads PyTorch's state dict as it is (so the names are PyTorch's), and compares
/// outputs, gradients and running statistics with `Fixtures/layers.safetensors`.
@Suite("Layers match PyTorch")
struct PyTorchLayerTests {
    let file: SafeTensorsFile
    init() throws { file = try Fixtures.load("layers") }

    @Test func linear() throws {
        try checkLayer(file, "linear", Linear(5, 4)) { try $0($1[0]) }
        try checkLayer(file, "linear_nobias", Linear(5, 4, bias: false)) { try $0($1[0]) }
    }

    @Test func convolutionAndPooling() throws {
        try checkLayer(file, "conv", Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1)) { try $0($1[0]) }
        try checkLayer(file, "maxpool_ties", MaxPool2d(2)) { try $0($1[0]) }
        try checkLayer(file, "maxpool_stride", MaxPool2d(3, stride: 2)) { try $0($1[0]) }
        try checkLayer(file, "avgpool", AvgPool2d(3, stride: 2)) { try $0($1[0]) }
    }

    @Test func convolutionOptions() throws {
        try checkLayer(file, "conv_dilation_rect", Conv2d(2, 4, kernelSize: [3, 2], stride: [2, 1], padding: [1, 2], dilation: [2, 1])) {
            try $0($1[0])
        }
        try checkLayer(file, "conv_groups", Conv2d(4, 6, kernelSize: 3, groups: 2, bias: false)) { try $0($1[0]) }
        try checkLayer(file, "conv_depthwise_same", Conv2d(3, 3, kernelSize: 4, padding: .same, groups: 3)) { try $0($1[0]) }
        try checkLayer(file, "conv_same_dilated", Conv2d(2, 3, kernelSize: 3, padding: .same, dilation: 2)) { try $0($1[0]) }
        try checkLayer(file, "conv_valid", Conv2d(2, 3, kernelSize: [2, 3], padding: .valid)) { try $0($1[0]) }
    }

    @Test func poolingOptions() throws {
        try checkLayer(file, "maxpool_pad_ceil", MaxPool2d(3, stride: 2, padding: 1, ceilMode: true)) { try $0($1[0]) }
        try checkLayer(file, "maxpool_rect", MaxPool2d([2, 3], stride: [1, 2])) { try $0($1[0]) }
        try checkLayer(file, "avgpool_pad_include", AvgPool2d(3, stride: 2, padding: 1)) { try $0($1[0]) }
        try checkLayer(file, "avgpool_pad_exclude_ceil", AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false)) {
            try $0($1[0])
        }
        try checkLayer(file, "adaptive_avgpool", AdaptiveAvgPool2d([3, 2])) { try $0($1[0]) }
        try checkLayer(file, "adaptive_avgpool_1", AdaptiveAvgPool2d(1)) { try $0($1[0]) }
    }

    @Test func batchNormTrainingAndEval() throws {
        let bn = BatchNorm2d(3)
        try checkLayer(file, "bn2d_train", bn) { try $0($1[0]) }
        try checkLayer(file, "bn2d_eval", bn, train: false) { try $0($1[0]) }
        try checkLayer(file, "bn1d_train", BatchNorm1d(3)) { try $0($1[0]) }
        try checkLayer(file, "bn1d_ncl", BatchNorm1d(3)) { try $0($1[0]) }
        try checkLayer(file, "bn1d_tiny_variance", BatchNorm1d(2)) { try $0($1[0]) }
        // Without running statistics eval mode normalizes with the batch's, as PyTorch does.
        try checkLayer(file, "bn1d_noaffine_nostats", BatchNorm1d(3, affine: false, trackRunningStats: false), train: false) {
            try $0($1[0])
        }
    }

    @Test func batchNormCumulativeAverage() throws {
        let bn = BatchNorm1d(3, momentum: nil)
        for i in 0..<3 { _ = try bn(file.tensor("bn1d_cumulative.batch\(i)")) }
        for (key, tensor) in bn.stateDict() {
            expectClose(tensor, try file.tensor("bn1d_cumulative.after.\(key)"), key)
        }
        #expect(bn.numBatchesTracked?.item == 3)
    }

    @Test func layerNorm() throws {
        try checkLayer(file, "layernorm", LayerNorm(6)) { try $0($1[0]) }
        try checkLayer(file, "layernorm_multi_noaffine", LayerNorm(normalizedShape: [3, 6], elementwiseAffine: false)) { try $0($1[0]) }
        try checkLayer(file, "layernorm_tiny_variance", LayerNorm(4)) { try $0($1[0]) }
    }

    @Test func rmsAndGroupNorm() throws {
        try checkLayer(file, "rmsnorm", RMSNorm(5)) { try $0($1[0]) }
        try checkLayer(file, "rmsnorm_multi_eps", RMSNorm(normalizedShape: [3, 5], eps: 1e-3, elementwiseAffine: false)) { try $0($1[0]) }
        try checkLayer(file, "groupnorm", GroupNorm(groups: 2, channels: 4)) { try $0($1[0]) }
        try checkLayer(file, "groupnorm_noaffine_1d", GroupNorm(groups: 3, channels: 3, affine: false)) { try $0($1[0]) }
    }

    @Test func embeddingWithPadding() throws {
        try checkLayer(file, "embedding", Embedding(7, 4, paddingIndex: 0)) { try $0($1[0]) }
    }

    @Test func attentionLoadsMultiheadAttentionWeights() throws {
        try checkLayer(file, "mha_causal", MultiheadSelfAttention(dimension: 8, heads: 2)) {
            try $0(AttentionInput($1[0], mask: AttentionInput.causalMask(5)))
        }
        try checkLayer(file, "mha_nomask", MultiheadSelfAttention(dimension: 6, heads: 3)) { try $0(AttentionInput($1[0])) }
    }

    @Test func attentionOptions() throws {
        try checkLayer(file, "mha_cross", MultiheadSelfAttention(dimension: 6, heads: 2)) {
            try $0(AttentionInput($1[0], key: $1[1], value: $1[2]))
        }
        try checkLayer(file, "mha_memory", MultiheadSelfAttention(dimension: 6, heads: 3)) { try $0(AttentionInput($1[0], key: $1[1])) }
        let (mask, padding) = (try file.tensor("mha_bool_masks.mask"), try file.tensor("mha_bool_masks.padding"))
        try checkLayer(file, "mha_bool_masks", MultiheadSelfAttention(dimension: 6, heads: 2)) {
            try $0(AttentionInput($1[0], key: $1[1], mask: mask, keyPaddingMask: padding))
        }
        try checkLayer(file, "mha_is_causal", MultiheadSelfAttention(dimension: 6, heads: 2)) {
            try $0(AttentionInput($1[0], isCausal: true))
        }
    }

    @Test(arguments: ["sdpa_plain", "sdpa_causal", "sdpa_scale", "sdpa_bool", "sdpa_float"])
    func scaledDotProductAttention(_ name: String) throws {
        let (q, k, v) = (try leaf(file, "\(name).q"), try leaf(file, "\(name).k"), try leaf(file, "\(name).v"))
        var generator = RandomGenerator(seed: 0)
        let out = try Tensor.scaledDotProductAttention(
            query: q, key: k, value: v, mask: file.tensors["\(name).mask"],
            isCausal: name == "sdpa_causal", scale: name == "sdpa_scale" ? 0.3 : nil,
            generator: &generator)
        expectClose(out, try file.tensor("\(name).output"), "\(name) output")
        try (out * file.tensor("\(name).probe")).sum().backward()
        for (t, n) in [(q, "q"), (k, "k"), (v, "v")] { expectClose(t.grad, try file.tensor("\(name).grad.\(n)"), "\(name) grad \(n)") }
    }

    @Test func activations() throws {
        try checkLayer(file, "relu", ReLU()) { try $0($1[0]) }
        try checkLayer(file, "gelu", GELU()) { try $0($1[0]) }
        try checkLayer(file, "tanh", Tanh()) { try $0($1[0]) }
        try checkLayer(file, "sigmoid", Sigmoid()) { try $0($1[0]) }
        try checkLayer(file, "softmax", Softmax()) { try $0($1[0]) }
        try checkLayer(file, "log_softmax", LogSoftmax()) { try $0($1[0]) }
        try checkLayer(file, "gelu_tanh", GELU(approximate: .tanh)) { try $0($1[0]) }
        try checkLayer(file, "silu", SiLU()) { try $0($1[0]) }
    }
}
