import Foundation
import Modules
import Tensors
import Testing

@Suite("Schedules, clipping and optimizer checkpoints")
struct ScheduleAndCheckpointTests {
    @Test func schedulesMatchPyTorch() throws {
        let file = try Fixtures.load("schedules")
        let makers: [(String, (Optimizer) -> LearningRateSchedule)] = [
            ("step", { StepLR($0, stepSize: 3, gamma: 0.5) }),
            ("cosine", { CosineAnnealingLR($0, maxEpochs: 10, minimum: 0.001) }),
            ("linear", { LinearLR($0, startFactor: 0.1, endFactor: 1, totalEpochs: 4) }),
        ]
        for (name, make) in makers {
            let optimizer = SGD(parameters: [Tensor.zeros([1]).asParameter()], learningRate: 0.1)
            let schedule = make(optimizer)
            var rates = [optimizer.learningRate]
            for _ in 0..<12 {
                optimizer.step()
                schedule.step()
                rates.append(optimizer.learningRate)
            }
            expectClose(Tensor(rates), try file.tensor("lr_\(name)"), "\(name) learning rates")
        }
    }

    @Test(arguments: [("clip_l2", Float(1), Float(2)), ("clip_inf", 0.5, .infinity), ("clip_none", 100, 2)])
    func clipGradNormMatchesPyTorch(_ name: String, _ maxNorm: Float, _ normType: Float) throws {
        let file = try Fixtures.load("schedules")
        let ps = [Tensor.zeros([3, 4]).asParameter(), Tensor.zeros([5]).asParameter(), Tensor.zeros([2]).asParameter()]
        ps[0].grad = try file.tensor("\(name).grad0").copy()
        ps[1].grad = try file.tensor("\(name).grad1").copy()
        let norm = clipGradNorm(ps, maxNorm: maxNorm, normType: normType)
        expectClose(.scalar(norm), try file.tensor("\(name).norm"), "\(name) norm")
        expectClose(ps[0].grad, try file.tensor("\(name).clipped0"), "\(name) grad 0")
        expectClose(ps[1].grad, try file.tensor("\(name).clipped1"), "\(name) grad 1")
        #expect(ps[2].grad == nil, "a parameter without a gradient stays without one")
    }

    /// Trains `steps` steps of a model whose second layer joins at step 2 (a late branch).
    func train(_ model: TwoLayer, _ optimizer: Optimizer, steps: Range<Int>) throws {
        for step in steps {
            optimizer.zeroGrad()
            let x = random([6, 4], seed: UInt64(10 + step))
            let h = try model.act(model.fc1(x))
            let out = step >= 2 ? try model.fc2(h) : try h.slice(axis: 1, 0..<3)
            let loss = try Tensor.crossEntropy(out, targets: Tensor(indices: [0, 1, 2, 0, 1, 2], shape: [6]))
            try loss.backward()
            optimizer.step()
        }
    }

    @Test(arguments: ["sgd", "adam", "adamw", "rmsprop"])
    func resumingFromACheckpointIsIdenticalToNotStopping(_ kind: String) throws {
        func make(_ ps: [Tensor]) -> Optimizer {
            switch kind {
            case "sgd": SGD(parameters: ps, learningRate: 0.1, momentum: 0.9, dampening: 0.1)
            case "adam": Adam(parameters: ps, learningRate: 0.01, amsgrad: true)
            case "adamw": AdamW(parameters: ps, learningRate: 0.01)
            default: RMSprop(parameters: ps, learningRate: 0.01, momentum: 0.5, centered: true)
            }
        }
        // Scoped seeds: the process-wide generator is shared with tests running in parallel.
        let uninterrupted = Random.withSeed(7) { TwoLayer() }
        let first = Random.withSeed(7) { TwoLayer() }
        let reference = make(uninterrupted.parameters())
        try train(uninterrupted, reference, steps: 0..<6)

        let optimizer = make(first.parameters())
        try train(first, optimizer, steps: 0..<3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try first.save(to: dir.appendingPathComponent("model.safetensors"))
        try optimizer.save(to: dir.appendingPathComponent("optimizer.safetensors"))

        let resumed = Random.withSeed(99) { TwoLayer() }  // different initial weights: everything must come from the files
        let resumedOptimizer = make(resumed.parameters())
        try resumed.load(from: dir.appendingPathComponent("model.safetensors"))
        try resumedOptimizer.load(from: dir.appendingPathComponent("optimizer.safetensors"))
        try train(resumed, resumedOptimizer, steps: 3..<6)
        for ((name, a), (_, b)) in zip(uninterrupted.stateDict(), resumed.stateDict()) {
            #expect(a.scalars == b.scalars, "\(kind): \(name) differs from the uninterrupted run")
        }
    }

    @Test func optimizerCheckpointOfAnotherKindIsRefused() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("opt-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let p = Tensor.zeros([2]).asParameter()
        try SGD(parameters: [p], learningRate: 0.1).save(to: url)
        #expect(throws: StateError.self) { try Adam(parameters: [p]).load(from: url) }
        #expect(throws: StateError.self) { try SGD(parameters: [p, p], learningRate: 0.1).load(from: url) }
    }
}
