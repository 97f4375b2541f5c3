import Foundation
import TraceEvents
import TraceStore

/// Writes a run as Chrome Trace Event Format JSON (object form), the way PyTorch's
/// profiler (Kineto) does, streamed so that memory does not grow with the trace:
/// - `X` events, strictly nested per thread, `ts`/`dur` in microseconds with nanosecond
///   decimals relative to `baseTimeNanoseconds`;
/// - `ProfilerStep#N`, optimizer and user ranges as `user_annotation`, tensor ops as
///   `cpu_op` with `Input Dims`, module calls as `forward`/`backward` with their path,
///   type, shapes and memory in `args`;
/// - live tensor bytes as a `Memory` counter; forward-to-backward flow arrows (`fwdbwd`);
/// - `process_name` (one process per rank) and `thread_name` metadata.
package struct ChromeExporter {
    package struct Summary {
        package var events: Int64 = 0
        package var spans: Int64 = 0
        package var counters: Int64 = 0
        package var flows: Int64 = 0
        package var bytes: Int64 = 0
    }

    package let reader: TraceReader
    package let model: TraceModel
    package let steps: ClosedRange<Int64>?

    package init(reader: TraceReader, run: Int64?, steps: ClosedRange<Int64>? = nil) throws {
        self.reader = reader
        model = try TraceModel(reader: reader, run: reader.run(run))
        try model.checkSteps(steps)
        self.steps = steps
    }

    /// `12.345` µs from nanoseconds, exactly.
    static func micros(_ ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let a = abs(ns)
        let frac = a % 1000
        return "\(sign)\(a / 1000)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + String(frac)
    }

    /// `[64,784];[64]` as PyTorch's `Input Dims` JSON array `[[64,784],[64]]`; text that is not
    /// a shape list (a damaged or crafted file) becomes a JSON string, so the output stays valid JSON.
    static func dims(_ shapes: String?) -> String? {
        guard let shapes, !shapes.isEmpty else { return nil }
        let allowed = Set("0123456789,;[] -".utf8)
        guard shapes.utf8.allSatisfy(allowed.contains), shapes.utf8.first == UInt8(ascii: "[") else { return JSON.quote(shapes) }
        return "[" + shapes.split(separator: ";").joined(separator: ",") + "]"
    }

    package func export(to path: String) throws -> Summary {
        try ChromeExporter.export([(self, 0)], to: path, baseTimeNanoseconds: model.run.startWallNanoseconds)
    }

    /// Several ranks' runs in one file, one process per rank (`rank N`), each shifted by its
    /// offset (ns) onto a common axis whose zero is `baseTimeNanoseconds` (wall clock).
    package static func export(
        _ parts: [(exporter: ChromeExporter, offsetNs: Int64)], to path: String,
        baseTimeNanoseconds: Int64
    ) throws -> Summary {
        guard path.hasSuffix(".json") || path.hasSuffix(".json.gz") else {
            throw ExportError("\(path): the output must end in .json or .json.gz")
        }
        guard let run = parts.first?.exporter.model.run else { throw ExportError("nothing to export") }
        let out = try TraceOutputStream(path: path)
        var summary = Summary()
        var first = true
        try out.write("{\"schemaVersion\":1,\"deviceProperties\":[],")
        try out.write("\"traceName\":\(JSON.quote(run.name)),\"host_name\":\(JSON.quote(run.host)),")
        try out.write("\"record_shapes\":\(run.options.contains("\"shapes\":true") ? 1 : 0),")
        try out.write("\"profile_memory\":\(run.options.contains("\"memory\":true") ? 1 : 0),")
        if parts.count == 1 {
            try out.write("\"distributedInfo\":{\"rank\":\(run.rank),\"world_size\":\(run.worldSize)},")
        } else {
            let ranks = parts.map { String($0.exporter.model.run.rank) }.joined(separator: ",")
            try out.write("\"distributedInfo\":{\"ranks\":[\(ranks)],\"world_size\":\(run.worldSize)},")
        }
        try out.write("\"displayTimeUnit\":\"ms\",\"baseTimeNanoseconds\":\(baseTimeNanoseconds),\"traceEvents\":[")
        var flowID: Int64 = 0
        for part in parts {
            try part.exporter.writeEvents(out, &summary, &first, &flowID, offset: part.offsetNs, merged: parts.count > 1)
        }
        try out.write("\n]}\n")
        try out.close()
        summary.bytes = out.bytesWritten
        return summary
    }

    /// This run's events: process and thread names, spans, counters and flows.
    func writeEvents(
        _ out: TraceOutputStream, _ summary: inout Summary, _ first: inout Bool, _ flowID: inout Int64,
        offset: Int64, merged: Bool
    ) throws {
        let run = model.run
        let pid = run.pid
        func event(_ json: String) throws {
            try out.write(first ? "\n" + json : ",\n" + json)
            first = false
            summary.events += 1
        }
        let processName = merged ? "rank \(run.rank)" : run.worldSize > 1 ? "\(run.name) (rank \(run.rank))" : run.name
        try event("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(pid),\"tid\":0,\"args\":{\"name\":\(JSON.quote(processName))}}")
        try event("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":\(pid),\"tid\":0,\"args\":{\"sort_index\":\(run.rank)}}")
        for (index, thread) in model.threads.sorted(by: { $0.key < $1.key }) {
            try event(
                "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(pid),\"tid\":\(tid(index)),\"args\":{\"name\":\(JSON.quote(thread.name))}}"
            )
            try event(
                "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":\(pid),\"tid\":\(tid(index)),\"args\":{\"sort_index\":\(index)}}")
        }

        // Everything in an event that depends only on its signature, rendered once.
        // Signature ids are small and dense: arrays beat dictionaries per row.
        let slots = model.signatures.isEmpty ? 0 : model.signatureIDs.count
        var prefixes = [(head: [UInt8], args: [UInt8])?](repeating: nil, count: slots)
        var signatures = [TraceModel.Signature?](repeating: nil, count: slots)
        for (id, sig) in model.signatures {
            let slot = model.signatureSlot(id)!
            prefixes[slot] = prefix(sig, pid: pid, tid: tid(sig.thread))
            signatures[slot] = sig
        }
        let flowStart = Array(",\"cat\":\"fwdbwd\",\"name\":\"fwdbwd\"}\n,{\"ph\":\"f\",\"id\":".utf8)
        let flowEnd = Array(",\"cat\":\"fwdbwd\",\"name\":\"fwdbwd\",\"bp\":\"e\"}".utf8)
        let counterHead = Array("\n,{\"ph\":\"C\",\"name\":\"Memory\",\"pid\":\(pid),\"ts\":".utf8)
        var buffer = ByteBuffer(capacity: 1 << 21)
        // Forward spans waiting for their backward span, per module, most recent last.
        var pendingForward: [Int64: [(ts: Int64, thread: Int64)]] = [:]
        var pendingStep: Int64 = -1
        var lastLive: Int64?
        try SpanScan.forEach(reader, model, steps: steps, label: "export") { row in
            guard let slot = model.signatureSlot(row.sig), slot < slots, let sig = signatures[slot], let prefix = prefixes[slot] else {
                return
            }
            if row.step != pendingStep {
                pendingForward.removeAll(keepingCapacity: true)
                pendingStep = row.step
            }
            buffer.append(prefix.head)
            if sig.kind == .step {
                buffer.append(int: row.step)
                buffer.append("\",\"pid\":")
                buffer.append(int: pid)
                buffer.append(",\"tid\":")
                buffer.append(int: tid(sig.thread))
                buffer.append(",\"ts\":")
            }
            buffer.append(micros: row.ts + offset)
            buffer.append(",\"dur\":")
            buffer.append(micros: row.dur)
            buffer.append(prefix.args)
            if let alloc = row.alloc, let freed = row.freed, let peak = row.peak {
                buffer.append("\"Allocated Bytes\":")
                buffer.append(int: alloc)
                buffer.append(",\"Freed Bytes\":")
                buffer.append(int: freed)
                buffer.append(",\"Peak Bytes\":")
                buffer.append(int: peak)
                buffer.append(byte: UInt8(ascii: ","))
            }
            buffer.append("\"Step\":")
            buffer.append(int: row.step)
            buffer.append(",\"Span Id\":")
            buffer.append(int: row.id)
            buffer.append("}}")
            summary.spans += 1
            summary.events += 1
            if let live = row.live, live != lastLive {
                buffer.append(counterHead)
                buffer.append(micros: row.ts + row.dur + offset)
                buffer.append(",\"args\":{\"live bytes\":")
                buffer.append(int: live)
                buffer.append("}}")
                lastLive = live
                summary.counters += 1
                summary.events += 1
            }
            if let module = sig.moduleID {
                if sig.kind == .forward {
                    pendingForward[module, default: []].append((row.ts + offset, sig.thread))
                } else if sig.kind == .backward, let forward = pendingForward[module]?.popLast() {
                    flowID += 1
                    buffer.append("\n,{\"ph\":\"s\",\"id\":")
                    buffer.append(int: flowID)
                    buffer.append(",\"pid\":")
                    buffer.append(int: pid)
                    buffer.append(",\"tid\":")
                    buffer.append(int: tid(forward.thread))
                    buffer.append(",\"ts\":")
                    buffer.append(micros: forward.ts)
                    buffer.append(flowStart)
                    buffer.append(int: flowID)
                    buffer.append(",\"pid\":")
                    buffer.append(int: pid)
                    buffer.append(",\"tid\":")
                    buffer.append(int: tid(sig.thread))
                    buffer.append(",\"ts\":")
                    buffer.append(micros: row.ts + offset)
                    buffer.append(flowEnd)
                    summary.flows += 1
                    summary.events += 2
                }
            }
            if buffer.bytes.count >= 1 << 20 { try out.write(&buffer) }
        }
        try out.write(&buffer)
    }

    /// The OS thread id of a tracer thread index (the index itself when unknown).
    func tid(_ thread: Int64) -> Int64 {
        let os = model.threads[thread]?.osThreadID ?? thread
        return os >= 0 && os <= Int64(UInt32.max) ? os : thread
    }

    /// The constant parts of a span event: up to `"ts":` (for steps, up to the step number in
    /// the name), and the args that do not change from call to call.
    func prefix(_ sig: TraceModel.Signature, pid: Int64, tid: Int64) -> (head: [UInt8], args: [UInt8]) {
        let category: String
        var name = sig.name
        switch sig.kind {
        case .forward:
            category = "forward"
            name = "nn.Module: \(sig.name)"
        case .backward:
            category = "backward"
            name = "nn.Module: \(sig.name).backward"
        case .op: category = "cpu_op"
        case .step, .range, .optimizer: category = "user_annotation"
        case .collective, .commWait, .commTransfer: category = sig.kind.name
        }
        var args: [String] = []
        if let id = sig.moduleID, let module = model.modules[id] {
            args.append("\"Module\":\(JSON.quote(module.path))")
            args.append("\"Module Type\":\(JSON.quote(module.type))")
        }
        if let dims = ChromeExporter.dims(sig.inputShapes) { args.append("\"Input Dims\":\(dims)") }
        if let dims = ChromeExporter.dims(sig.outputShapes) { args.append("\"Output Dims\":\(dims)") }
        if sig.kind == .forward { args.append("\"Training\":\(sig.training)") }
        if !sig.hooks.isEmpty { args.append("\"Hooks\":\(JSON.quote(sig.hooks))") }
        if sig.failed { args.append("\"Failed\":true") }
        let head =
            sig.kind == .step
            ? "\n,{\"ph\":\"X\",\"cat\":\"\(category)\",\"name\":\"ProfilerStep#"
            : "\n,{\"ph\":\"X\",\"cat\":\"\(category)\",\"name\":\(JSON.quote(name)),\"pid\":\(pid),\"tid\":\(tid),\"ts\":"
        return (Array(head.utf8), Array((",\"args\":{" + args.map { $0 + "," }.joined()).utf8))
    }
}
