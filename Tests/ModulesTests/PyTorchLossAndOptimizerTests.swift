import Foundation
import Modules
import Tensors
import Testing

/// Cross-entropy and MSE against `Fixtures/losses.safetensors`.
@Suite("Losses match PyTorch")
struct PyTorchLossTests {
    let file: SafeTensorsFile
    init() throws { file = try Fixtures.load("losses") }

    func checkCrossEntropy(
        _ name: String, ignoreIndex: Int32 = -100, labelSmoothing: Float = 0, reduction: Reduction = .mean,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let logits = try leaf(file, "\(name).logits")
        let loss = try Tensor.crossEntropy(
            logits, targets: file.tensor("\(name).targets"), weight: file.tensors["\(name).weight"],
            ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing, reduction: reduction)
        expectClose(loss, try file.tensor("\(name).loss"), "\(name) loss", sourceLocation: sourceLocation)
        try (loss * file.tensor("\(name).probe")).sum().backward()
        expectClose(logits.grad, try file.tensor("\(name).grad"), "\(name) gradient", sourceLocation: sourceLocation)
    }

    @Test func confidentWrongPredictionIsNotCapped() throws {
        try checkCrossEntropy("ce_confident_wrong")
        try checkCrossEntropy("ce_confident_wrong_none", reduction: .none)
        let perRow = try Tensor.crossEntropy(
            file.tensor("ce_confident_wrong.logits"),
            targets: file.tensor("ce_confident_wrong.targets"), reduction: .none)
        #expect(perRow.scalars[0] == 100, "a logit margin of 100 costs 100, not log(1e-30) = 69.08")
    }

    @Test func crossEntropyOptions() throws {
        try checkCrossEntropy("ce_basic")
        try checkCrossEntropy("ce_weight")
        try checkCrossEntropy("ce_ignore_weight")
        try checkCrossEntropy("ce_smoothing", labelSmoothing: 0.2)
        try checkCrossEntropy("ce_smoothing_weight_ignore", labelSmoothing: 0.1)
        try checkCrossEntropy("ce_sum", labelSmoothing: 0.1, reduction: .sum)
        try checkCrossEntropy("ce_none", labelSmoothing: 0.1, reduction: .none)
        try checkCrossEntropy("ce_custom_ignore", ignoreIndex: 2)
    }

    @Test(arguments: [Reduction.mean, .sum, .none])
    func mse(_ reduction: Reduction) throws {
        let name = "mse_\(reduction.rawValue)"
        let input = try leaf(file, "\(name).input")
        let loss = try Tensor.mse(input, file.tensor("\(name).target"), reduction: reduction)
        expectClose(loss, try file.tensor("\(name).loss"), "\(name) loss")
        try (loss * file.tensor("\(name).probe")).sum().backward()
        expectClose(input.grad, try file.tensor("\(name).grad"), "\(name) gradient")
    }
}

/// Six steps of each optimizer on two parameters, the second of which gets its first gradient
/// at step 2, against `torch.optim` (`Fixtures/optimizers.safetensors`).
@Suite("Optimizers match torch.optim step by step")
struct PyTorchOptimizerTests {
    static let names = [
        "sgd", "sgd_momentum", "sgd_nesterov", "sgd_maximize", "adam", "adam_amsgrad_maximize", "adamw", "adamw_amsgrad", "rmsprop",
        "rmsprop_centered_momentum",
    ]

    static func make(_ name: String, _ ps: [Tensor]) -> Optimizer {
        switch name {
        case "sgd": SGD(parameters: ps, learningRate: 0.1, weightDecay: 0.01)
        case "sgd_momentum": SGD(parameters: ps, learningRate: 0.1, momentum: 0.9, dampening: 0.3, weightDecay: 0.01)
        case "sgd_nesterov": SGD(parameters: ps, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        case "sgd_maximize": SGD(parameters: ps, learningRate: 0.1, momentum: 0.5, maximize: true)
        case "adam": Adam(parameters: ps, learningRate: 0.01, beta2: 0.99, weightDecay: 0.01)
        case "adam_amsgrad_maximize": Adam(parameters: ps, learningRate: 0.01, amsgrad: true, maximize: true)
        case "adamw": AdamW(parameters: ps, learningRate: 0.01, weightDecay: 0.1)
        case "adamw_amsgrad": AdamW(parameters: ps, learningRate: 0.01, weightDecay: 0.1, amsgrad: true)
        case "rmsprop": RMSprop(parameters: ps, learningRate: 0.01, alpha: 0.9)
        case "rmsprop_centered_momentum":
            RMSprop(parameters: ps, learningRate: 0.01, alpha: 0.9, weightDecay: 0.01, momentum: 0.5, centered: true)
        default: fatalError("no case \(name)")
        }
    }

    @Test(arguments: names)
    func trajectory(_ name: String) throws {
        let file = try Fixtures.load("optimizers")
        let w1 = try file.tensor("init.w1").copy().asParameter()
        let w2 = try file.tensor("init.w2").copy().asParameter()
        let optimizer = Self.make(name, [w1, w2])
        for k in 0..<6 {
            optimizer.zeroGrad()
            w1.grad = try file.tensor("grad.\(k).w1").copy()
            w2.grad = file.tensors["grad.\(k).w2"]?.copy()
            optimizer.step()
            expectClose(w1, try file.tensor("\(name).\(k).w1"), "\(name) step \(k) w1")
            expectClose(w2, try file.tensor("\(name).\(k).w2"), "\(name) step \(k) w2 (first gradient at step 2)")
        }
    }
}

@Suite("NLL and BCE with logits match PyTorch")
struct PyTorchMoreLossTests {
    let file: SafeTensorsFile
    init() throws { file = try Fixtures.load("losses") }

    func check(_ name: String, _ loss: (Tensor) throws -> Tensor, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let input = try leaf(file, "\(name).input")
        let value = try loss(input)
        expectClose(value, try file.tensor("\(name).loss"), "\(name) loss", sourceLocation: sourceLocation)
        try (value * file.tensor("\(name).probe")).sum().backward()
        expectClose(input.grad, try file.tensor("\(name).grad"), "\(name) gradient", sourceLocation: sourceLocation)
    }

    @Test func nll() throws {
        let (targets, weight) = (try file.tensor("nll.targets"), try file.tensor("nll.weight"))
        try check("nll_basic") { try Tensor.nllLoss($0, targets: targets) }
        try check("nll_weight_ignore") { try Tensor.nllLoss($0, targets: targets, weight: weight, ignoreIndex: 2) }
        try check("nll_sum") { try Tensor.nllLoss($0, targets: targets, reduction: .sum) }
        try check("nll_none") { try NLLLoss(weight: weight, reduction: .none)($0, targets) }
    }

    @Test func binaryCrossEntropyWithLogits() throws {
        let (targets, weight, positive) = (try file.tensor("bce.targets"), try file.tensor("bce.weight"), try file.tensor("bce.pos_weight"))
        try check("bce_basic") { try BCEWithLogitsLoss()($0, targets) }
        try check("bce_weights") { try Tensor.binaryCrossEntropyWithLogits($0, targets: targets, weight: weight, positiveWeight: positive) }
        try check("bce_sum") { try Tensor.binaryCrossEntropyWithLogits($0, targets: targets, positiveWeight: positive, reduction: .sum) }
        try check("bce_none") { try Tensor.binaryCrossEntropyWithLogits($0, targets: targets, weight: weight, reduction: .none) }
        #expect(BCEWithLogitsLoss(positiveWeight: positive).stateDict().map(\.name) == ["pos_weight"])
    }
}
