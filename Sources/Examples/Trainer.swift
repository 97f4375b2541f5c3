import Distributed
import Modules
import Profiler
import Tensors

/// The example models.
package enum ModelKind: String, CaseIterable, Sendable {
    case mlp, cnn, gpt
}

/// How to train.
package struct TrainingConfig: Sendable {
    package var model: ModelKind
    package var steps: Int
    package var batchSize: Int
    package var learningRate: Float
    package var seed: UInt64
    /// Make the model call its last layer's `forward` directly (a bypass to detect).
    package var demoBypass = false
    /// With `distribute(over:)`: call the wrapped model directly on this step, skipping
    /// `DistributedDataParallel`'s forward (a DDP bypass to detect).
    package var ddpBypassStep: Int?
    /// With `distribute(over:)`: compare parameters across ranks every this many steps (0: never).
    package var consistencyEvery = 0

    package init(model: ModelKind, steps: Int? = nil, batchSize: Int? = nil, learningRate: Float? = nil, seed: UInt64 = 0) {
        self.model = model
        self.seed = seed
        switch model {
        case .mlp: (self.steps, self.batchSize, self.learningRate) = (steps ?? 600, batchSize ?? 64, learningRate ?? 0.05)
        case .cnn: (self.steps, self.batchSize, self.learningRate) = (steps ?? 300, batchSize ?? 32, learningRate ?? 0.05)
        case .gpt: (self.steps, self.batchSize, self.learningRate) = (steps ?? 300, batchSize ?? 16, learningRate ?? 3e-3)
        }
    }
}

/// One logged step.
package struct StepLog: Sendable {
    package var step: Int
    package var loss: Float
    /// Fraction of the batch classified correctly (classifiers only).
    package var accuracy: Float?
    package var stepsPerSecond: Double
}

/// What a run achieved.
package struct TrainingSummary: Sendable {
    package var firstLoss: Float
    package var finalLoss: Float
    /// Mean training accuracy over the last 20 steps, and accuracy on held-out data (classifiers).
    package var trainAccuracy: Float?
    package var testAccuracy: Float?
    package var chance: Float
    package var stepsPerSecond: Double
    package var sample: String?
}

/// Builds the model and data for a config and trains it.
package final class Trainer {
    package let config: TrainingConfig
    package let model: Module<Tensor, Tensor>
    let optimizer: Optimizer
    let lossFunction = CrossEntropyLoss()
    private var shapes: (train: ShapesDataset, test: ShapesDataset)?
    private var corpus: CharacterCorpus?
    private var batches: Batches
    static let context = 32
    /// The data-parallel wrapper, after `distribute(over:)`.
    package private(set) var ddp: DistributedDataParallel?
    /// Consistency checks run and the first mismatch they found.
    package private(set) var consistencyChecks = 0
    package private(set) var firstMismatch: ParameterMismatch?
    private var stepsDone = 0

    package init(_ config: TrainingConfig) {
        self.config = config
        // A generator of our own: the same seed gives the same run even when other models are
        // built on other threads meanwhile.
        (model, optimizer, shapes, corpus, batches) = Random.withSeed(config.seed) { Trainer.build(config) }
    }

    private static func build(_ config: TrainingConfig)
        -> (Module<Tensor, Tensor>, Optimizer, (train: ShapesDataset, test: ShapesDataset)?, CharacterCorpus?, Batches)
    {
        let model: Module<Tensor, Tensor>
        let optimizer: Optimizer
        var shapes: (train: ShapesDataset, test: ShapesDataset)?
        var corpus: CharacterCorpus?
        let batches: Batches
        switch config.model {
        case .mlp, .cnn:
            let data = (ShapesDataset(count: 6000, seed: config.seed &+ 1), ShapesDataset(count: 1000, seed: config.seed &+ 2))
            shapes = data
            batches = Batches(count: data.0.count, batchSize: config.batchSize, seed: config.seed &+ 3)
            if config.model == .mlp {
                let mlp = MLP()
                mlp.bypassLastLayer = config.demoBypass
                model = mlp
            } else {
                let cnn = CNN()
                cnn.bypassLastLayer = config.demoBypass
                model = cnn
            }
            optimizer = SGD(parameters: model.parameters(), learningRate: config.learningRate, momentum: 0.9)
        case .gpt:
            let text = CharacterCorpus(sentences: 2000, seed: config.seed &+ 1)
            corpus = text
            batches = Batches(count: text.ids.count - Trainer.context - 1, batchSize: config.batchSize, seed: config.seed &+ 3)
            let gpt = GPT(vocabulary: text.vocabulary.count, context: Trainer.context)
            gpt.bypassLastLayer = config.demoBypass
            model = gpt
            optimizer = AdamW(parameters: model.parameters(), learningRate: config.learningRate)
        }
        return (model, optimizer, shapes, corpus, batches)
    }

    /// Trains data-parallel over `group`: the model is wrapped in `DistributedDataParallel`
    /// and each rank takes its contiguous share of every global batch (`batchSize` must
    /// divide by the group's size), so the ranks together see what one process would.
    package func distribute(over group: ProcessGroup, bucketCapMB: Double = 25) throws {
        guard config.batchSize % group.size == 0 else {
            throw DistributedError(
                collective: "setup", rank: group.rank, size: group.size,
                message: "the batch size \(config.batchSize) does not divide by \(group.size) ranks")
        }
        ddp = try DistributedDataParallel(model, group: group, bucketCapMB: bucketCapMB)
    }

    /// This rank's share of a global batch.
    private func shard(_ indices: ArraySlice<Int>) -> ArraySlice<Int> {
        guard let group = ddp?.group, group.size > 1 else { return indices }
        let per = indices.count / group.size
        let start = indices.startIndex + group.rank * per
        return indices[start..<(start + per)]
    }

    /// The module a training step calls: the DDP wrapper, or the model itself.
    private var stepModel: Module<Tensor, Tensor> {
        guard let ddp else { return model }
        return config.ddpBypassStep == stepsDone ? ddp.module : ddp
    }

    /// What evaluation calls: through the DDP wrapper too (in eval mode without gradients it
    /// only forwards), so that the trace shows no skipped wrapper.
    private var evalModel: Module<Tensor, Tensor> { ddp ?? model }

    /// Loss and accuracy averaged over the ranks (what one process on the whole batch reports).
    private func global(_ loss: Float, _ accuracy: Float?) throws -> (Float, Float?) {
        guard let group = ddp?.group, group.size > 1 else { return (loss, accuracy) }
        var values = [loss, accuracy ?? 0]
        try group.allReduce(&values, label: "loss")
        let n = Float(group.size)
        return (values[0] / n, accuracy.map { _ in values[1] / n })
    }

    private func checkConsistency() throws {
        guard let ddp, config.consistencyEvery > 0, stepsDone % config.consistencyEvery == 0 else { return }
        consistencyChecks += 1
        if let mismatch = try ParameterConsistency.check(ddp, step: stepsDone), firstMismatch == nil {
            firstMismatch = mismatch
        }
    }

    /// Registers a forward hook on the model's last layer and returns its name and a call
    /// counter (with `demoBypass` the hook never fires: the layer's wrapper is skipped).
    package func countLastLayerHookCalls() -> (layer: String, count: () -> Int) {
        let last: (String, Linear) =
            switch model {
            case let mlp as MLP: ("fc3", mlp.fc3)
            case let cnn as CNN: ("fc", cnn.fc)
            case let gpt as GPT: ("head", gpt.head)
            default: preconditionFailure("unknown model")
            }
        final class Counter { var calls = 0 }
        let counter = Counter()
        last.1.registerForwardHook { _, _, _ in
            counter.calls += 1
            return nil
        }
        return (last.0, { counter.calls })
    }

    /// Chance-level accuracy, or for the GPT the loss of a uniform guess.
    var chance: Float {
        config.model == .gpt ? Float(corpus!.vocabulary.count) : 1 / Float(ShapesDataset.classes.count)
    }

    /// Trains for `config.steps` steps; `afterStep` runs after each optimizer step with its log.
    package func run(afterStep: (StepLog) throws -> Void = { _ in }) throws -> TrainingSummary {
        evalModel.train()
        var firstLoss: Float = .nan
        var lastLoss: Float = .nan
        var recentAccuracy: [Float] = []
        let start = ContinuousClock.now
        for step in 1...config.steps {
            let (loss, accuracy) = try trainStep()
            if step == 1 { firstLoss = loss }
            lastLoss = loss
            if let accuracy { recentAccuracy = Array((recentAccuracy + [accuracy]).suffix(20)) }
            let elapsed = (ContinuousClock.now - start).seconds
            try afterStep(StepLog(step: step, loss: loss, accuracy: accuracy, stepsPerSecond: Double(step) / max(elapsed, 1e-9)))
        }
        let elapsed = (ContinuousClock.now - start).seconds
        return TrainingSummary(
            firstLoss: firstLoss, finalLoss: lastLoss,
            trainAccuracy: recentAccuracy.isEmpty ? nil : recentAccuracy.reduce(0, +) / Float(recentAccuracy.count),
            testAccuracy: try testAccuracy(), chance: chance, stepsPerSecond: Double(config.steps) / max(elapsed, 1e-9),
            sample: try sample())
    }

    /// One optimizer step on the next batch: loss and batch accuracy.
    package func trainStep() throws -> (loss: Float, accuracy: Float?) {
        stepsDone += 1
        optimizer.zeroGrad()
        let result: (Float, Float?)
        switch config.model {
        case .mlp, .cnn:
            let (x, y) = Profiler.range("data") { input(shapes!.train, shard(batches.next()!)) }
            let logits = try stepModel(x)
            let loss = try lossFunction(logits, y)
            try Profiler.range("backward") { try loss.backward() }
            optimizer.step()
            result = (loss.item, accuracy(logits, y))
        case .gpt:
            let (x, y) = Profiler.range("data") { corpus!.batch(starts: Array(shard(batches.next()!)), length: Trainer.context) }
            let logits = try stepModel(x)
            let vocabulary = logits.shape[2]
            let loss = try lossFunction(logits.reshaped([-1, vocabulary]), y.reshaped([-1]))
            try Profiler.range("backward") { try loss.backward() }
            optimizer.step()
            result = (loss.item, nil)
        }
        try checkConsistency()
        return try global(result.0, result.1)
    }

    private func input(_ data: ShapesDataset, _ indices: ArraySlice<Int>) -> (Tensor, Tensor) {
        let (x, y) = data.batch(indices)
        let side = ShapesDataset.side
        return (config.model == .cnn ? try! x.reshaped([indices.count, 1, side, side]) : x, y)
    }

    private func accuracy(_ logits: Tensor, _ labels: Tensor) -> Float {
        let predicted = logits.argmaxLastAxis()
        let correct = zip(predicted, labels.indexScalars).filter { $0 == Int($1) }.count
        return Float(correct) / Float(predicted.count)
    }

    /// Accuracy on the held-out images, in eval mode without gradients.
    func testAccuracy() throws -> Float? {
        guard let test = shapes?.test else { return nil }
        evalModel.eval()
        defer { evalModel.train() }
        var correct: Float = 0
        for start in stride(from: 0, to: test.count, by: 250) {
            let (x, y) = input(test, Array(start..<min(start + 250, test.count))[...])
            correct += try noGrad { accuracy(try evalModel(x), y) } * Float(y.count)
        }
        return correct / Float(test.count)
    }

    /// For the GPT: greedy continuation of "the ".
    func sample() throws -> String? {
        guard let corpus, config.model == .gpt else { return nil }
        evalModel.eval()
        defer { evalModel.train() }
        let index = Dictionary(uniqueKeysWithValues: corpus.vocabulary.enumerated().map { ($1, Int32($0)) })
        var ids = "the ".map { index[$0]! }
        for _ in 0..<48 {
            let window = Array(ids.suffix(Trainer.context))
            let logits = try noGrad { try evalModel(Tensor(indices: window, shape: [1, window.count])) }
            let last = try logits.slice(axis: 1, (window.count - 1)..<window.count).contiguous()
            ids.append(Int32(last.argmaxLastAxis()[0]))
        }
        return String(ids.map { corpus.vocabulary[Int($0)] })
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
