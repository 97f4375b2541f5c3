import Examples
import Modules
import Tensors
import Testing

@Suite("Training the examples")
struct TrainingTests {
    @Test func mlpConvergesInSeconds() throws {
        let trainer = Trainer(TrainingConfig(model: .mlp, steps: 150, seed: 1))
        let summary = try trainer.run()
        #expect(summary.finalLoss < summary.firstLoss * 0.5, "loss \(summary.firstLoss) -> \(summary.finalLoss)")
        #expect((summary.testAccuracy ?? 0) > 0.5, "held-out accuracy \(summary.testAccuracy ?? 0), chance 0.1")
    }

    @Test func gptLossFalls() throws {
        let trainer = Trainer(TrainingConfig(model: .gpt, steps: 40, batchSize: 8, seed: 1))
        let summary = try trainer.run()
        #expect(summary.finalLoss < summary.firstLoss - 0.5, "loss \(summary.firstLoss) -> \(summary.finalLoss)")
    }

    /// After a full step (forward, loss, backward, SGD with momentum), the live bytes are back
    /// where the previous step left them: gradients are dropped by zeroGrad, the graph is freed.
    @Test func liveBytesReturnToTheBaselineAfterEachStep() throws {
        let trainer = Trainer(TrainingConfig(model: .mlp, steps: 1, seed: 2))
        _ = try trainer.trainStep()  // creates the optimizer state
        let baseline = MemoryStats.threadLiveBytes
        for _ in 0..<3 {
            _ = try trainer.trainStep()
            #expect(MemoryStats.threadLiveBytes == baseline)
        }
    }

    @Test func seededRunsAreDeterministic() throws {
        let a = try Trainer(TrainingConfig(model: .mlp, steps: 5, seed: 3)).run()
        let b = try Trainer(TrainingConfig(model: .mlp, steps: 5, seed: 3)).run()
        #expect(a.finalLoss == b.finalLoss)
    }
}
