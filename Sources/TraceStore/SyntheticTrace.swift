import TraceEvents
import TraceRuntime

/// Writes a deterministic trace of an MLP-like training loop without running a model:
/// fixtures for tests (stable golden output) and large traces for benchmarks.
///
/// Per step: `ProfilerStep#N` with `zero_grad`, a `data` range, the forward tree
/// (model → fc1, act1, fc2, act2, fc3), the loss, a `backward` range with each module's
/// backward span, and the optimizer step. 19 spans per step.
package struct SyntheticTrace {
    package var steps: Int
    /// Extra hidden blocks (fc/act pairs) beyond the default MLP, to make bigger models.
    package var extraBlocks = 0
    /// Registered but never called: a bypass finding of kind never_ran.
    package var unusedModule = true
    package var seed: UInt64 = 1
    /// The names and shapes its spans refer to (as a session's interner would hold them).
    package let names = Interner()

    package init(steps: Int) { self.steps = steps }

    struct Module {
        var id: UInt32
        var path: String
        var type: String
        var parent: UInt32
        var params: Int
        var cost: Int64
        var alloc: Int64
    }

    var modules: [Module] {
        var list = [Module(id: 1, path: "", type: "MLP", parent: 0, params: 0, cost: 0, alloc: 0)]
        var id: UInt32 = 2
        let layers = 2 + extraBlocks
        for i in 1...layers {
            list.append(
                Module(
                    id: id, path: "fc\(i)", type: "Linear", parent: 1, params: i == 1 ? 200_960 : 65_792,
                    cost: i == 1 ? 240_000 : 80_000, alloc: 65_536))
            list.append(Module(id: id + 1, path: "act\(i)", type: "ReLU", parent: 1, params: 0, cost: 25_000, alloc: 65_536))
            id += 2
        }
        list.append(Module(id: id, path: "fc\(layers + 1)", type: "Linear", parent: 1, params: 2_570, cost: 6_000, alloc: 2_560))
        if unusedModule {
            list.append(Module(id: id + 1, path: "unused", type: "Dropout", parent: 1, params: 0, cost: 0, alloc: 0))
        }
        return list
    }

    /// Spans written per step.
    package var spansPerStep: Int { 19 + 4 * extraBlocks }

    /// Appends one run to `path` and returns its id.
    @discardableResult
    package func write(to path: String, name: String = "synthetic", batchSize: Int = 65_536) throws -> Int64 {
        let writer = try open(path, name: name)
        try generate(batchSize: batchSize) { batch in try batch.withUnsafeBufferPointer { try writer.write($0, dropped: 0) } }
        try finish(writer)
        return writer.runID
    }

    /// Starts a run in `path` for this trace's spans.
    package func open(_ path: String, name: String = "synthetic") throws -> TraceWriter {
        try TraceWriter(
            path: path,
            run: RunDescription(
                name: name, options: "{\"synthetic\":true}",
                startWallNanoseconds: 1_800_000_000_000_000_000,
                command: "synthetic", host: "fixture", pid: 4242),
            names: names)
    }

    /// Ends the run `writer` holds: the module tree, threads, steps.
    package func finish(_ writer: TraceWriter) throws {
        let modules = self.modules
        let loss = modules.count + 1
        var infos = modules.map {
            ModuleInfo(
                id: $0.id, path: $0.path, type: $0.type, parent: $0.parent, directParameters: $0.params,
                totalParameters: $0.params, hooks: 0, isBuiltIn: $0.id != 1)
        }
        infos[0].totalParameters = modules.reduce(0) { $0 + $1.params }
        infos.append(
            ModuleInfo(
                id: UInt32(loss), path: "", type: "CrossEntropyLoss", parent: 0, directParameters: 0,
                totalParameters: 0, hooks: 0, isBuiltIn: true))
        let neverRan = NeverRan.findings(modules: infos, ran: writer.modulesThatRan, firstStep: writer.firstStep ?? 0)
        try writer.finish(
            modules: infos, bypasses: neverRan, threads: [(0, 4242)],
            endWallNanoseconds: 1_800_000_000_000_000_000 + UInt64(1_000 + steps * 1_500_000), dropped: 0)
    }

    /// The spans, in batches of about `batchSize` as a drain would hand them over (times in ns).
    package func generate(batchSize: Int = 65_536, _ body: ([SpanRecord]) throws -> Void) throws {
        let modules = self.modules
        let layers = modules.filter { $0.parent == 1 && $0.path != "unused" }
        let loss = modules.count + 1
        let strings = (
            zero: names.intern("Optimizer.zero_grad#SGD.zero_grad"),
            step: names.intern("Optimizer.step#SGD.step"),
            data: names.intern("data"), backward: names.intern("backward")
        )
        let shapes = (
            input: names.intern(shapeTokens: [0 | 2 << 8, 64, 784]),
            hidden: names.intern(shapeTokens: [0 | 2 << 8, 64, 256]),
            logits: names.intern(shapeTokens: [0 | 2 << 8, 64, 10]),
            lossIn: names.intern(shapeTokens: [0 | 2 << 8, 64, 10, 1 | 1 << 8, 64]),
            scalar: names.intern(shapeTokens: [0])
        )
        var records: [SpanRecord] = []
        records.reserveCapacity(batchSize + spansPerStep)
        var nextID: UInt64 = 1
        var clock: Int64 = 1_000
        var live: Int64 = 1_000_000
        var random = seed
        // The highest peak inside the open step: a step span's peak covers its children's, as the runtime records it.
        var stepPeak: Int64 = 0

        func jitter(_ cost: Int64) -> Int64 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return cost + cost * Int64((random >> 33) % 11) / 100
        }
        func open(
            _ kind: SpanKind, _ subject: UInt32, parent: UInt64, depth: UInt16, step: Int,
            shapes: (UInt32, UInt32) = (0, 0)
        ) -> SpanRecord {
            var r = SpanRecord()
            r.id = nextID
            nextID += 1
            r.parent = parent
            r.kind = kind.rawValue
            r.subject = subject
            r.depth = depth
            r.step = UInt32(step)
            r.start = UInt64(clock)
            r.inputShapes = shapes.0
            r.outputShapes = shapes.1
            r.flags = SpanFlag.memory | (kind == .forward ? SpanFlag.training : 0)
            return r
        }
        func close(_ r: inout SpanRecord, allocated: Int64 = 0, freed: Int64 = 0) {
            clock += 500
            live += allocated - freed
            r.end = UInt64(clock)
            r.allocated = allocated
            r.freed = freed
            r.live = live
            r.peak = live + freed / 2
            if r.kind == SpanKind.step.rawValue { r.peak = max(r.peak, stepPeak) } else { stepPeak = max(stepPeak, r.peak) }
            records.append(r)
        }
        func leaf(
            _ kind: SpanKind, _ subject: UInt32, parent: UInt64, depth: UInt16, step: Int, cost: Int64,
            allocated: Int64 = 0, freed: Int64 = 0, shapes: (UInt32, UInt32) = (0, 0)
        ) {
            var r = open(kind, subject, parent: parent, depth: depth, step: step, shapes: shapes)
            clock += jitter(cost)
            close(&r, allocated: allocated, freed: freed)
        }

        for step in 0..<steps {
            var stepSpan = open(.step, UInt32(step), parent: 0, depth: 0, step: step)
            stepPeak = 0
            leaf(.optimizer, strings.zero, parent: stepSpan.id, depth: 1, step: step, cost: 2_000, freed: 1_077_288)
            leaf(.range, strings.data, parent: stepSpan.id, depth: 1, step: step, cost: 40_000, allocated: 200_960)
            var model = open(.forward, 1, parent: stepSpan.id, depth: 1, step: step, shapes: (shapes.input, shapes.logits))
            var activations: Int64 = 0
            for (i, m) in layers.enumerated() {
                let input = i == 0 ? shapes.input : shapes.hidden
                let output = i == layers.count - 1 ? shapes.logits : shapes.hidden
                leaf(
                    .forward, m.id, parent: model.id, depth: 2, step: step, cost: m.cost, allocated: m.alloc,
                    shapes: (input, output))
                activations += m.alloc
            }
            close(&model, allocated: activations)
            leaf(
                .forward, UInt32(loss), parent: stepSpan.id, depth: 1, step: step, cost: 10_000, allocated: 2_564,
                shapes: (shapes.lossIn, shapes.scalar))
            var backward = open(.range, strings.backward, parent: stepSpan.id, depth: 1, step: step)
            leaf(.backward, UInt32(loss), parent: backward.id, depth: 2, step: step, cost: 4_000, allocated: 2_560)
            var modelBackward = open(.backward, 1, parent: backward.id, depth: 2, step: step)
            for m in layers.reversed() {
                leaf(
                    .backward, m.id, parent: modelBackward.id, depth: 3, step: step, cost: m.cost * 3 / 2,
                    allocated: m.alloc + Int64(m.params) * 4, freed: m.alloc)
            }
            close(&modelBackward)
            close(&backward)
            leaf(.optimizer, strings.step, parent: stepSpan.id, depth: 1, step: step, cost: 120_000)
            close(&stepSpan, freed: live - 1_000_000 - Int64(layers.reduce(0) { $0 + $1.params }) * 4)
            if records.count >= batchSize {
                try body(records)
                records.removeAll(keepingCapacity: true)
            }
        }
        if !records.isEmpty { try body(records) }
    }
}
