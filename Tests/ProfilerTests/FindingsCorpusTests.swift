import Examples
import Foundation
import Modules
import Tensors
import Testing
import TraceStore
import TraceTools

@testable import Profiler

/// Findings of the latest run as `Root.path <- caller: evidence xN from step S`, the module named
/// with its root (two models may both have an `fc`), the caller as a path in its own tree.
func rootedFindings(_ path: String) throws -> [String] {
    try texts(
        path,
        """
        WITH RECURSIVE up(id, root) AS (
            SELECT id, type FROM modules WHERE run_id = (SELECT max(id) FROM runs) AND parent_id IS NULL
            UNION ALL
            SELECT m.id, up.root FROM modules m JOIN up ON m.parent_id = up.id WHERE m.run_id = (SELECT max(id) FROM runs))
        SELECT CASE m.path WHEN '' THEN r.root ELSE r.root || '.' || m.path END || ' <- ' ||
               COALESCE(CASE c.path WHEN '' THEN c.type ELSE c.path END, '<top level>') || ': ' ||
               b.evidence || ' x' || b.count || ' from step ' || b.first_step
        FROM bypasses b JOIN modules m ON m.run_id = b.run_id AND m.id = b.module_id
        JOIN up r ON r.id = m.id
        LEFT JOIN modules c ON c.run_id = b.run_id AND c.id = b.caller_id
        WHERE b.run_id = (SELECT max(id) FROM runs) ORDER BY 1
        """)
}

/// Planted bugs: each must be named, with its exact path, evidence, caller, count and step.
let buggyModels: [CorpusCase] = [
    CorpusCase(
        name: "a Linear's forward called directly",
        expected: [
            "ModelA.act <- ModelA: forward_without_wrapper x2 from step 0",
            "ModelA.act <- ModelA: never_ran x1 from step 0",
        ]
    ) { p in
        let m = ModelA()
        for _ in 0..<2 {
            _ = try m(x3)
            p.step()
        }
    },
    CorpusCase(
        name: "the root's forward called from the training loop",
        expected: [
            "Classifier <- <top level>: wrapper_skipped x3 from step 0"
        ]
    ) { p in
        let m = Classifier()
        m.eval()
        for _ in 0..<3 {
            _ = try m.forward(x3)
            p.step()
        }
    },
    CorpusCase(
        name: "a helper of the root calls forward",
        expected: [
            "Classifier <- <top level>: wrapper_skipped x2 from step 0"
        ]
    ) { p in
        let m = Classifier()
        m.eval()
        for _ in 0..<2 {
            _ = try m.predict(x3)
            p.step()
        }
    },
    CorpusCase(
        name: "a user block's forward called by its parent",
        expected: [
            "TwoBlocks.second <- TwoBlocks: wrapper_skipped x2 from step 0"
        ]
    ) { p in
        let m = TwoBlocks()
        m.bypassSecond = true
        for _ in 0..<2 {
            _ = try m(x3)
            p.step()
        }
    },
    CorpusCase(
        name: "a helper method of the parent calls a block's forward",
        expected: [
            "HelperBypass.block <- HelperBypass: wrapper_skipped x1 from step 0"
        ]
    ) { p in
        _ = try HelperBypass()(x3)
    },
    CorpusCase(
        name: "a user module with a parameter bypassed",
        expected: [
            "ScaledModel.scale <- ScaledModel: never_ran x1 from step 0",
            "ScaledModel.scale <- ScaledModel: parameter_read x2 from step 0",
        ]
    ) { p in
        let m = ScaledModel()
        m.bypass = true
        for _ in 0..<2 {
            _ = try m(x3)
            p.step()
        }
    },
    CorpusCase(
        name: "ModuleList elements' forward",
        expected: [
            "Stack.layers.0 <- Stack: forward_without_wrapper x1 from step 0",
            "Stack.layers.0 <- Stack: never_ran x1 from step 0",
            "Stack.layers.1 <- Stack: forward_without_wrapper x1 from step 0",
            "Stack.layers.1 <- Stack: never_ran x1 from step 0",
            "Stack.layers.2 <- Stack: forward_without_wrapper x1 from step 0",
            "Stack.layers.2 <- Stack: never_ran x1 from step 0",
            "Stack.seq <- Stack: never_ran x1 from step 0",  // this pass does not use it at all
        ]
    ) { p in
        let m = Stack()
        m.mode = 1
        _ = try m(x3)
    },
    CorpusCase(
        name: "a Sequential's forward",
        expected: [
            "Stack.layers.0 <- Stack: never_ran x1 from step 0",  // this pass does not use the list
            "Stack.layers.1 <- Stack: never_ran x1 from step 0",
            "Stack.layers.2 <- Stack: never_ran x1 from step 0",
            "Stack.seq <- Stack: forward_without_wrapper x1 from step 0",
        ]
    ) { p in
        let m = Stack()
        m.mode = 2
        _ = try m(x3)
    },
    CorpusCase(
        name: "Dropout's forward",
        expected: [
            "DropoutBypass.drop <- DropoutBypass: forward_without_wrapper x1 from step 0",
            "DropoutBypass.drop <- DropoutBypass: never_ran x1 from step 0",
        ]
    ) { p in _ = try DropoutBypass()(x3) },
    CorpusCase(
        name: "LayerNorm's forward",
        expected: [
            "LayerNormBypass.norm <- LayerNormBypass: forward_without_wrapper x1 from step 0",
            "LayerNormBypass.norm <- LayerNormBypass: never_ran x1 from step 0",
        ]
    ) { p in _ = try LayerNormBypass()(x3) },
    CorpusCase(
        name: "Embedding's forward",
        expected: [
            "EmbeddingBypass.embedding <- EmbeddingBypass: forward_without_wrapper x1 from step 0",
            "EmbeddingBypass.embedding <- EmbeddingBypass: never_ran x1 from step 0",
        ]
    ) { p in _ = try EmbeddingBypass()(Tensor(indices: [1, 2, 3], shape: [3])) },
    CorpusCase(
        name: "Conv2d's forward",
        expected: [
            "ConvNet.conv <- ConvNet: forward_without_wrapper x1 from step 0",
            "ConvNet.conv <- ConvNet: never_ran x1 from step 0",
        ]
    ) { p in _ = try ConvNet()(Tensor.ones([1, 1, 4, 4])) },
    CorpusCase(
        name: "attention's forward",
        expected: [
            "AttentionModel.attention <- AttentionModel: forward_without_wrapper x1 from step 0"
        ]
    ) { p in
        let m = AttentionModel()
        m.bypass = true
        _ = try m(Tensor.ones([1, 2, 4]))
    },
    CorpusCase(
        name: "a module kept in a dictionary",
        expected: [
            "Linear <- DictModel: unregistered x1 from step 0"
        ]
    ) { p in
        let m = DictModel()
        for _ in 0..<2 {
            _ = try m(x3)
            p.step()
        }
    },
    CorpusCase(
        name: "a module kept in a struct",
        expected: [
            "Linear <- StructModel: unregistered x1 from step 0"
        ]
    ) { p in _ = try StructModel()(x3) },
    CorpusCase(
        name: "a layer created inside forward",
        expected: [
            "Tanh <- MakesLayers: unregistered x3 from step 0"
        ]
    ) { p in
        let m = MakesLayers()
        for _ in 0..<3 {
            _ = try m(x3)
            p.step()
        }
    },
    CorpusCase(
        name: "a bypass on a worker thread with no span open",
        expected: [
            "Block.act <- <top level>: forward_without_wrapper x1 from step 0"
        ]
    ) { p in
        let block = box(Block())
        onWorkerThread(p) { _ = try block.value.act.forward(x3) }
    },
    CorpusCase(
        name: "a bypass that starts in a later step",
        expected: [
            "Conditional.fc <- Conditional: forward_without_wrapper x2 from step 2"
        ]
    ) { p in
        let m = Conditional()
        for step in 0..<4 {
            m.bypassNow = step >= 2
            _ = try m(x3)
            p.step()
        }
    },
    CorpusCase(
        name: "two models with the same child names, one bypassed",
        expected: [
            "ModelA.act <- ModelA: forward_without_wrapper x1 from step 0",
            "ModelA.act <- ModelA: never_ran x1 from step 0",
        ]
    ) { p in
        _ = try ModelB()(x3)
        _ = try ModelA()(x3)
    },
    CorpusCase(
        name: "evaluation without eval(): Dropout under noGrad in training mode",
        expected: [
            "Classifier.drop <- Classifier: train_mode_without_grad x2 from step 1"
        ]
    ) { p in
        let m = Classifier()
        let sgd = SGD(parameters: m.parameters(), learningRate: 0.01)
        try trainStep(m, sgd)
        p.step()
        for _ in 0..<2 { _ = try noGrad { try m(x3) } }
    },
    CorpusCase(
        name: "evaluation without eval(): BatchNorm under noGrad in training mode",
        expected: [
            "Normalized.norm <- Normalized: train_mode_without_grad x1 from step 0"
        ]
    ) { p in
        let m = Normalized()
        _ = try noGrad { try m(x3) }
    },
    CorpusCase(
        name: "training with eval() left on",
        expected: [
            "Classifier.drop <- <top level>: eval_mode_in_training x2 from step 1"
        ]
    ) { p in
        let m = Classifier()
        let sgd = SGD(parameters: m.parameters(), learningRate: 0.01)
        try trainStep(m, sgd)
        p.step()
        m.eval()  // validation ... and train() is forgotten
        for _ in 0..<2 {
            try trainStep(m, sgd)
            p.step()
        }
    },
    CorpusCase(
        name: "BatchNorm trained on one sample",
        expected: [
            "Normalized.norm <- Normalized: batch_norm_single_value x1 from step 0"
        ]
    ) { p in
        let m = Normalized()
        let sgd = SGD(parameters: m.parameters(), learningRate: 0.01)
        try trainStep(m, sgd, Tensor.ones([1, 3]))
    },
    CorpusCase(
        name: "the example MLP with its last layer bypassed",
        expected: [
            "MLP.fc3 <- MLP: forward_without_wrapper x2 from step 0",
            "MLP.fc3 <- MLP: never_ran x1 from step 0",
        ]
    ) { p in
        let m = MLP(inputs: 4, hidden: 8, classes: 3)
        m.bypassLastLayer = true
        for _ in 0..<2 {
            _ = try m(Tensor.ones([2, 4]))
            p.step()
        }
    },
    CorpusCase(
        name: "a block's forward called from the top level of the loop",
        expected: [
            "TwoBlocks.second <- <top level>: wrapper_skipped x1 from step 0"
        ]
    ) { p in
        let m = TwoBlocks()
        _ = try m(x3)
        _ = try m.second.forward(x3)
    },
    CorpusCase(
        name: "the root of a Sequential model called through forward",
        expected: [
            "Sequential <- <top level>: forward_without_wrapper x1 from step 0"
        ]
    ) { p in
        let m = Sequential(Linear(3, 3), ReLU())
        _ = try m.forward(x3)
    },
    CorpusCase(
        name: "a block's forward kept as a function value",
        expected: [
            "TwoBlocks.first <- <top level>: wrapper_skipped x2 from step 0"
        ]
    ) { p in
        let m = TwoBlocks()
        let features = m.first.forward
        for _ in 0..<2 { _ = try features(x3) }
    },
    CorpusCase(
        name: "a list of user blocks, each block's forward",
        expected: [
            "Blocks.blocks.0 <- Blocks: wrapper_skipped x1 from step 0",
            "Blocks.blocks.1 <- Blocks: wrapper_skipped x1 from step 0",
        ]
    ) { p in
        final class Blocks: Module<Tensor, Tensor> {
            let blocks = ModuleList([Block(), Block()])
            override func forward(_ x: Tensor) throws -> Tensor { try blocks.reduce(x) { try $1.forward($0) } }
        }
        _ = try Blocks()(x3)
    },
    CorpusCase(
        name: "a bypass on one of two worker threads",
        expected: [
            "ModelA.act <- ModelA: forward_without_wrapper x1 from step 0",
            "ModelA.act <- ModelA: never_ran x1 from step 0",
        ]
    ) { p in
        let a = box(ModelA())
        let b = box(ModelB())
        onWorkerThread(p) { _ = try b.value(x3) }
        onWorkerThread(p) { _ = try a.value(x3) }
    },
    CorpusCase(
        name: "an unregistered helper module with parameters inside a block",
        expected: [
            "Linear <- block: unregistered x1 from step 0"
        ]
    ) { p in
        final class Holder: Module<Tensor, Tensor> {
            final class Inner: Module<Tensor, Tensor> {
                let fc = Linear(3, 3)
                private let cache: [Int: Linear] = [0: Linear(3, 3)]  // a dictionary: the tree does not look there
                override func forward(_ x: Tensor) throws -> Tensor { try cache[0]!(fc(x)) }
            }
            let block = Inner()
            override func forward(_ x: Tensor) throws -> Tensor { try block(x) }
        }
        _ = try Holder()(x3)
    },
    CorpusCase(
        name: "a nested user block inside a container bypassed",
        expected: [
            "Bypassing.inner.encoder <- Bypassing: wrapper_skipped x1 from step 0"
        ]
    ) { p in
        final class Bypassing: Module<Tensor, Tensor> {
            let inner = Encoder()
            /// Reaches into `inner`: its decoder through the wrapper (ordinary), its encoder's forward (a bypass).
            override func forward(_ x: Tensor) throws -> Tensor { try inner.decoder(inner.encoder.forward(x)) }
        }
        let model = Bypassing()
        _ = try model(x3)
    },
]

/// Correct code that looks like a bug: none may give a finding.
let cleanModels: [CorpusCase] = [
    CorpusCase(name: "logging weight norms outside any module", expected: []) { p in
        let m = Classifier()
        let sgd = SGD(parameters: m.parameters(), learningRate: 0.01)
        try trainStep(m, sgd)
        for t in m.parameters() { _ = try (t * t).sum() }
    },
    CorpusCase(name: "an L2 penalty over parameters() added to the loss", expected: []) { p in
        let m = Classifier()
        let sgd = SGD(parameters: m.parameters(), learningRate: 0.01)
        sgd.zeroGrad()
        var loss = try m(x3).sum()
        for t in m.parameters() { loss = try loss + (t * t).sum() * 0.01 }
        try loss.backward()
        sgd.step()
    },
    CorpusCase(name: "an exponential moving average of the weights under noGrad", expected: []) { p in
        let m = Classifier()
        var ema = m.parameters().map { $0.detach() }
        noGrad { for (i, t) in m.parameters().enumerated() { ema[i] = try! ema[i] * 0.99 + t * 0.01 } }
        _ = try m(x3)
    },
    CorpusCase(name: "gradient clipping", expected: []) { p in
        let m = Classifier()
        let sgd = SGD(parameters: m.parameters(), learningRate: 0.01)
        try m(x3).sum().backward()
        var total: Float = 0
        for t in m.parameters() { if let g = t.grad { total += try (g * g).sum().floats[0] } }
        _ = total.squareRoot()
        sgd.step()
    },
    CorpusCase(name: "custom initialisation that reads the weights", expected: []) { p in
        let m = Classifier()
        _ = try (m.fc1.weight * 0.5).sum()
        _ = try m(x3)
    },
    CorpusCase(name: "a language-model head using the embedding's weight", expected: []) { p in
        let m = Tied()
        for _ in 0..<2 {
            try m(Tensor(indices: [1, 2, 3], shape: [3])).sum().backward()
            p.step()
        }
    },
    CorpusCase(name: "ModuleList and Sequential iterated element by element", expected: []) { p in
        _ = try Stack()(x3)
    },
    CorpusCase(name: "a Sequential iterated from the training loop", expected: []) { p in
        let seq = Sequential(Linear(3, 3), ReLU(), Linear(3, 2))
        var h = x3
        for layer in seq.layers { h = try layer(h) }
    },
    CorpusCase(name: "one submodule called from outside (embeddings for logging)", expected: []) { p in
        let m = Encoder()
        _ = try m(x3)
        p.step()
        _ = try noGrad { try m.encoder(x3) }
    },
    CorpusCase(name: "super.forward in an override", expected: []) { p in
        final class Doubled: Linear {
            override func forward(_ x: Tensor) throws -> Tensor { try super.forward(x) * 2 }
        }
        final class Model: Module<Tensor, Tensor> {
            let fc = Doubled(3, 3)
            override func forward(_ x: Tensor) throws -> Tensor { try fc(x) }
        }
        _ = try Model()(x3)
    },
    CorpusCase(name: "a module reused twice and a module registered twice", expected: []) { p in
        _ = try SharedChild()(x3)
    },
    CorpusCase(name: "a user module passing its parameter to a child", expected: []) { p in
        try Gated()(x3).sum().backward()
    },
    CorpusCase(name: "a user module reading its own parameter", expected: []) { p in
        _ = try ScaledModel()(x3)
    },
    CorpusCase(name: "a module in an optional property", expected: []) { p in
        _ = try OptionalHead()(x3)
    },
    CorpusCase(name: "the model called on a worker thread through its wrapper", expected: []) { p in
        let m = box(Classifier())
        onWorkerThread(p) { _ = try m.value(x3) }
    },
    CorpusCase(name: "validation with eval() and noGrad, then train() again", expected: []) { p in
        let m = Classifier()
        let sgd = SGD(parameters: m.parameters(), learningRate: 0.01)
        for _ in 0..<2 {
            try trainStep(m, sgd)
            m.eval()
            _ = try noGrad { try m(x3) }
            m.train()
            p.step()
        }
    },
    CorpusCase(name: "validation in eval mode without noGrad, no optimizer step", expected: []) { p in
        let m = Classifier()
        m.eval()
        _ = try m(x3).sum()
    },
    CorpusCase(name: "BatchNorm trained on a batch", expected: []) { p in
        let m = Normalized()
        let sgd = SGD(parameters: m.parameters(), learningRate: 0.01)
        try trainStep(m, sgd)
    },
    CorpusCase(name: "BatchNorm on one sample in eval mode", expected: []) { p in
        let m = Normalized()
        m.eval()
        _ = try noGrad { try m(Tensor.ones([1, 3])) }
    },
    CorpusCase(name: "a loss module called at the top level", expected: []) { p in
        let m = Classifier()
        let loss = CrossEntropyLoss()
        try loss(Pair(m(x3), Tensor(indices: [0, 1], shape: [2]))).backward()
    },
    CorpusCase(name: "the GPT example trained for two steps", expected: []) { p in
        let gpt = GPT(vocabulary: 11, context: 8, dimension: 16, heads: 2, layers: 2)
        let ids = Tensor(indices: (0..<16).map { Int32($0 % 11) }, shape: [2, 8])
        let adam = AdamW(parameters: gpt.parameters(), learningRate: 0.001)
        for _ in 0..<2 {
            adam.zeroGrad()
            try Tensor.crossEntropy(gpt(ids).reshaped([-1, 11]), targets: ids.reshaped([-1])).backward()
            adam.step()
            p.step()
        }
    },
    CorpusCase(name: "the model's helper that goes through the wrapper", expected: []) { p in
        let m = Classifier()
        m.eval()
        _ = try m.predictThroughWrapper(x3)
    },
    CorpusCase(name: "the CNN example trained for a step", expected: []) { p in
        let cnn = CNN()
        let sgd = SGD(parameters: cnn.parameters(), learningRate: 0.01)
        sgd.zeroGrad()
        try Tensor.crossEntropy(cnn(Tensor.ones([2, 1, 28, 28])), targets: Tensor(indices: [1, 2], shape: [2])).backward()
        sgd.step()
    },
]

extension Tracing {
    @Suite("Findings on a corpus of models")
    struct FindingsCorpusTests {
        @Test(arguments: buggyModels)
        func plantedBugIsNamed(_ model: CorpusCase) throws {
            let path = try profile { p in try model.run(p) }
            let found = try rootedFindings(path)
            #expect(found == model.expected, "found \(found)")
        }

        @Test(arguments: cleanModels)
        func cleanModelHasNoFinding(_ model: CorpusCase) throws {
            let path = try profile { p in try model.run(p) }
            let found = try rootedFindings(path)
            #expect(found == [], "found \(found)")
        }

        /// Shape polymorphism: each module's distinct input shapes with their call counts.
        @Test func modulesCalledWithSeveralShapesAreListed() throws {
            let model = Block()
            let path = try profile { p in
                for batch in [2, 2, 5] {
                    _ = try model(Tensor.ones([batch, 3]))
                    p.step()
                }
            }
            let report = try Report(reader: TraceReader(path: path), run: nil)
            let text = ReportRenderer().render(report, format: .table)
            let section = text.components(separatedBy: "\n").drop { !$0.hasPrefix("Modules called with several") }.prefix(4)
            #expect(
                Array(section) == [
                    "Modules called with several input shapes (each shape is a different static graph):",
                    "  Block (Block): [2,3] ×2, [5,3] ×1",
                    "  fc (Linear): [2,3] ×2, [5,3] ×1",
                    "  act (ReLU): [2,3] ×2, [5,3] ×1",
                ])
        }

        /// A finding records the source line of the direct call (once per finding, from a backtrace).
        @Test func findingNamesTheLineOfTheDirectCall() throws {
            let model = ModelA()
            let path = try profile(locations: true) { _ in for _ in 0..<3 { _ = try model(x3) } }
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FindingsCorpus.swift")
            let lines = try String(contentsOf: source, encoding: .utf8).components(separatedBy: "\n")
            let line = try #require(lines.firstIndex { $0.contains("try act.forward(fc(x))") }) + 1
            let details = try texts(path, "SELECT detail FROM bypasses WHERE evidence = 'forward_without_wrapper'")
            #expect(details.count == 1)
            #expect(details.first?.hasSuffix("FindingsCorpus.swift:\(line)") == true, "\(details)")
            #expect(details.first?.hasPrefix("at ") == true)
        }

        @Test func corpusIsLargeEnough() {
            #expect(buggyModels.count >= 25 && cleanModels.count >= 20)
        }
    }
}
