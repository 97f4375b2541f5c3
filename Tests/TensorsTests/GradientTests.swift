import Testing

@testable import Tensors

@Suite("Gradients match finite differences")
struct GradientTests {
    @Test func broadcastingArithmetic() throws {
        try gradCheck([random([2, 3]), random([3], seed: 2)]) { try $0[0] + $0[1] }
        try gradCheck([random([2, 1]), random([1, 3], seed: 2)]) { try $0[0] - $0[1] }
        try gradCheck([random([2, 3]), random([2, 3], seed: 2)]) { try $0[0] * $0[1] }
        try gradCheck([random([2, 3]), random([3], seed: 2, in: 1...2)]) { try $0[0] / $0[1] }
        try gradCheck([random([4])]) { ($0[0] * 3 + 1 - 2) / 4 }
        try gradCheck([random([4])]) { -$0[0] }
    }

    @Test func unaryMath() throws {
        try gradCheck([random([5])]) { $0[0].exp() }
        try gradCheck([random([5], in: 0.5...2)]) { $0[0].log() }
        try gradCheck([random([5], in: 0.5...2)]) { $0[0].sqrt() }
        try gradCheck([random([5], in: 0.5...2)]) { $0[0].pow(3) }
    }

    @Test func activations() throws {
        let awayFromZero = Tensor([-1.5, -0.7, 0.3, 0.9, 2.0], shape: [5])
        try gradCheck([awayFromZero]) { $0[0].relu() }
        try gradCheck([random([6], in: -3...3)]) { $0[0].gelu() }
        try gradCheck([random([6], in: -3...3)]) { $0[0].tanh() }
        try gradCheck([random([6], in: -3...3)]) { $0[0].sigmoid() }
    }

    @Test func matmul() throws {
        try gradCheck([random([3, 4]), random([4, 5], seed: 2)]) { try $0[0].matmul($0[1]) }
        try gradCheck([random([2, 3, 4]), random([4, 5], seed: 2)]) { try $0[0].matmul($0[1]) }
        try gradCheck([random([2, 3, 4]), random([2, 4, 5], seed: 2)]) { try $0[0].matmul($0[1]) }
        try gradCheck([random([4, 3]), random([4, 5], seed: 2)]) { try $0[0].transposed().matmul($0[1]) }
    }

    @Test func linear() throws {
        try gradCheck([random([3, 4]), random([5, 4], seed: 2), random([5], seed: 3)]) {
            try Tensor.linear($0[0], weight: $0[1], bias: $0[2])
        }
        try gradCheck([random([2, 3, 4]), random([5, 4], seed: 2)]) { try Tensor.linear($0[0], weight: $0[1], bias: nil) }
    }

    @Test func reductions() throws {
        try gradCheck([random([2, 3])]) { $0[0].sum() }
        try gradCheck([random([2, 3])]) { $0[0].mean() }
        try gradCheck([random([2, 3, 4])]) { try $0[0].sum(axes: [1], keepDims: true) }
        try gradCheck([random([2, 3, 4])]) { try $0[0].sum(axes: [0, 2]) }
        try gradCheck([random([2, 3, 4])]) { try $0[0].mean(axes: [-1]) }
        try gradCheck([Tensor([1, 5, 2, 8, 3, 4], shape: [2, 3])]) { try $0[0].amax(axis: 1) }
        try gradCheck([Tensor((0..<24).map { Float(($0 * 7) % 24) }, shape: [2, 3, 4])]) { try $0[0].amax(axes: [0, 2]) }
    }

    @Test func softmaxFamily() throws {
        try gradCheck([random([2, 5], in: -2...2)]) { try $0[0].softmax() }
        try gradCheck([random([2, 3, 4], in: -2...2)]) { try $0[0].softmax(axis: 1) }
        try gradCheck([random([2, 5], in: -2...2)]) { try $0[0].logSoftmax() }
        try gradCheck([random([2, 3, 4], in: -2...2)]) { try $0[0].logSoftmax(axis: 1) }
    }

    @Test func losses() throws {
        let targets = Tensor(indices: [2, 0, 4], shape: [3])
        try gradCheck([random([3, 5], in: -2...2)]) { try Tensor.crossEntropy($0[0], targets: targets) }
        try gradCheck([random([3, 4]), random([3, 4], seed: 5)]) { try Tensor.mse($0[0], $0[1]) }
        try gradCheck([random([3, 4]), random([3, 4], seed: 5)]) { try Tensor.mse($0[0], $0[1], reduction: .none) }
    }

    @Test func lossOptions() throws {
        let targets = Tensor(indices: [2, -100, 4, 1], shape: [4])
        let weight = Tensor([0.5, 1, 2, 1.5, 0.7])
        for reduction in [Reduction.mean, .sum, .none] {
            try gradCheck([random([4, 5], in: -2...2)]) {
                try Tensor.crossEntropy($0[0], targets: targets, weight: weight, labelSmoothing: 0.2, reduction: reduction)
            }
            try gradCheck([random([4, 5], in: -2...0)]) {
                try Tensor.nllLoss($0[0], targets: targets, weight: weight, reduction: reduction)
            }
            try gradCheck([random([4, 3], in: -3...3)]) {
                try Tensor.binaryCrossEntropyWithLogits(
                    $0[0], targets: random([4, 3], seed: 4, in: 0...1),
                    weight: random([4, 3], seed: 5, in: 0...1),
                    positiveWeight: Tensor([2, 0.5, 1]), reduction: reduction)
            }
        }
    }

    @Test func convolution() throws {
        try gradCheck([random([2, 2, 5, 5]), random([3, 2, 3, 3], seed: 2), random([3], seed: 3)]) {
            try Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 1)
        }
        try gradCheck([random([1, 2, 6, 6]), random([2, 2, 2, 2], seed: 2)]) {
            try Tensor.conv2d($0[0], weight: $0[1], bias: nil, stride: 2, padding: 0)
        }
    }

    @Test func pooling() throws {
        // Distinct values so the max is unique.
        let x = Tensor((0..<32).map { Float(($0 * 7) % 32) / 8 }, shape: [1, 2, 4, 4])
        try gradCheck([x]) { try $0[0].maxPool2d(kernel: 2) }
        try gradCheck([random([1, 2, 4, 4])]) { try $0[0].avgPool2d(kernel: 2) }
        try gradCheck([random([1, 1, 5, 5])]) { try $0[0].avgPool2d(kernel: 3, stride: 1) }
    }

    @Test func viewsConcatSplit() throws {
        try gradCheck([random([2, 6])]) { try $0[0].reshaped([3, -1]) * Tensor.ones([3, 4]) }
        try gradCheck([random([2, 3])]) { try $0[0].transposed().contiguous() }
        try gradCheck([random([2, 3, 4])]) { try $0[0].permuted([2, 0, 1]).contiguous() }
        try gradCheck([random([4, 3])]) { try $0[0].slice(axis: 0, 1..<3).contiguous() }
        try gradCheck([random([2, 3]), random([2, 2], seed: 2)]) { try Tensor.concat([$0[0], $0[1]], axis: 1) }
        try gradCheck([random([2, 5])]) {
            let parts = try $0[0].split([2, 3], axis: 1)
            return try Tensor.concat([parts[1] * 2, parts[0]], axis: 1)
        }
    }

    @Test func embeddingAndNorms() throws {
        let ids = Tensor(indices: [1, 3, 1, 0], shape: [2, 2])
        try gradCheck([random([4, 3])]) { try Tensor.embedding(ids, weight: $0[0]) }
        try gradCheck([random([3, 5], in: -2...2), random([5], seed: 2, in: 0.5...1.5), random([5], seed: 3)]) {
            try Tensor.layerNorm($0[0], gamma: $0[1], beta: $0[2])
        }
        for training in [true, false] {
            try gradCheck([random([4, 3], in: -2...2), random([3], seed: 2, in: 0.5...1.5), random([3], seed: 3)]) {
                try Tensor.batchNorm(
                    $0[0], gamma: $0[1], beta: $0[2], runningMean: .zeros([3]),
                    runningVar: .ones([3]), training: training)
            }
        }
        try gradCheck([random([2, 2, 3, 3], in: -2...2), random([2], seed: 2, in: 0.5...1.5), random([2], seed: 3)]) {
            try Tensor.batchNorm(
                $0[0], gamma: $0[1], beta: $0[2], runningMean: .zeros([2]),
                runningVar: .ones([2]), training: true)
        }
    }

    @Test func dropoutWithFixedMask() throws {
        try gradCheck([random([10])]) { x in
            var g = RandomGenerator(seed: 7)
            return x[0].dropout(0.3, using: &g)
        }
    }
}

@Test("gradientCheck catches a wrong backward rule")
func gradientCheckDetectsWrongRule() throws {
    let mismatches = try gradientCheck([random([4])]) { x in
        Autograd.op("double", x, { x[0].detach() * 2 }, backward: { g, _ in [g] })
    }
    #expect(mismatches.count == 4)
}
