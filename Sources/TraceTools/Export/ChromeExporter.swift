import Foundation
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
public struct ChromeExporter {
    public struct Summary {
        public var events: Int64 = 0
        public var spans: Int64 = 0
        public var counters: Int64 = 0
        public var flows: Int64 = 0
        public var bytes: Int64 = 0
    }

    public let reader: TraceReader
    public let model: TraceModel
    public let steps: ClosedRange<Int64>?

    public init(reader: TraceReader, run: Int64?, steps: ClosedRange<Int64>? = nil) throws {
        self.reader = reader
        model = try TraceModel(reader: reader, run: reader.run(run))
        self.steps = steps
    }

    /// `12.345` µs from nanoseconds, exactly.
    static func micros(_ ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let a = abs(ns)
        let frac = a % 1000
        return "\(sign)\(a / 1000)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + String(frac)
    }

    static func dims(_ shapes: String?) -> String? {
        guard let shapes, !shapes.isEmpty else { return nil }
        return "[" + shapes.split(separator: ";").joined(separator: ",") + "]"
    }

    public func export(to path: String) throws -> Summary {
        guard path.hasSuffix(".json") || path.hasSuffix(".json.gz") else {
            throw ExportError("\(path): the output must end in .json or .json.gz")
        }
        let out = try TraceOutputStream(path: path)
        var summary = Summary()
        let run = model.run
        let pid = run.pid
        var first = true
        func event(_ json: String) throws {
            try out.write(first ? "\n" + json : ",\n" + json)
            first = false
            summary.events += 1
        }
        try out.write("{\"schemaVersion\":1,\"deviceProperties\":[],")
        try out.write("\"traceName\":\(JSON.quote(run.name)),\"host_name\":\(JSON.quote(run.host)),")
        try out.write("\"record_shapes\":\(run.options.contains("\"shapes\":true") ? 1 : 0),")
        try out.write("\"profile_memory\":\(run.options.contains("\"memory\":true") ? 1 : 0),")
        try out.write("\"distributedInfo\":{\"rank\":\(run.rank),\"world_size\":\(run.worldSize)},")
        try out.write("\"displayTimeUnit\":\"ms\",\"baseTimeNanoseconds\":\(run.startWallNanoseconds),\"traceEvents\":[")

        let processName = run.worldSize > 1 ? "\(run.name) (rank \(run.rank))" : run.name
        try event("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(pid),\"tid\":0,\"args\":{\"name\":\(JSON.quote(processName))}}")
        try event("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":\(pid),\"tid\":0,\"args\":{\"sort_index\":\(run.rank)}}")
        for (index, thread) in model.threads.sorted(by: { $0.key < $1.key }) {
            try event("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(pid),\"tid\":\(tid(index)),\"args\":{\"name\":\(JSON.quote(thread.name))}}")
            try event("{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":\(pid),\"tid\":\(tid(index)),\"args\":{\"sort_index\":\(index)}}")
        }

        // Forward spans waiting for their backward span: per (thread, module), most recent last.
        var pendingForward: [Int64: [(ts: Int64, thread: Int64)]] = [:]
        var pendingStep: Int64 = -1
        var lastLive: Int64?
        var flowID: Int64 = 0
        try SpanScan.forEach(reader, model, steps: steps, label: "export") { row in
            guard let sig = model.signatures[row.sig] else { return }
            if row.step != pendingStep {
                pendingForward.removeAll(keepingCapacity: true)
                pendingStep = row.step
            }
            let t = tid(sig.thread)
            try event(span(row, sig, pid: pid, tid: t))
            summary.spans += 1
            if let live = row.live, live != lastLive {
                try event("{\"ph\":\"C\",\"name\":\"Memory\",\"pid\":\(pid),\"ts\":\(ChromeExporter.micros(row.ts + row.dur)),\"args\":{\"live bytes\":\(live)}}")
                lastLive = live
                summary.counters += 1
            }
            guard let module = sig.moduleID else { return }
            if sig.kind == 0 {
                pendingForward[module, default: []].append((row.ts, sig.thread))
            } else if sig.kind == 1, let forward = pendingForward[module]?.popLast() {
                flowID += 1
                try event("{\"ph\":\"s\",\"id\":\(flowID),\"pid\":\(pid),\"tid\":\(tid(forward.thread)),\"ts\":\(ChromeExporter.micros(forward.ts)),\"cat\":\"fwdbwd\",\"name\":\"fwdbwd\"}")
                try event("{\"ph\":\"f\",\"id\":\(flowID),\"pid\":\(pid),\"tid\":\(t),\"ts\":\(ChromeExporter.micros(row.ts)),\"cat\":\"fwdbwd\",\"name\":\"fwdbwd\",\"bp\":\"e\"}")
                summary.flows += 1
            }
        }
        try out.write("\n]}\n")
        try out.close()
        summary.bytes = out.bytesWritten
        return summary
    }

    /// The OS thread id of a tracer thread index (the index itself when unknown).
    func tid(_ thread: Int64) -> Int64 {
        let os = model.threads[thread]?.osThreadID ?? thread
        return os >= 0 && os <= Int64(UInt32.max) ? os : thread
    }

    func span(_ row: SpanRow, _ sig: TraceModel.Signature, pid: Int64, tid: Int64) -> String {
        let category: String
        var name = sig.name
        var args: [String] = []
        switch sig.kind {
        case 0:
            category = "forward"
            name = "nn.Module: \(sig.name)"
        case 1:
            category = "backward"
            name = "nn.Module: \(sig.name).backward"
        case 4:
            category = "user_annotation"
            name = "ProfilerStep#\(row.step)"
        case 5: category = "cpu_op"
        default: category = "user_annotation"
        }
        if let id = sig.moduleID, let module = model.modules[id] {
            args.append("\"Module\":\(JSON.quote(module.path))")
            args.append("\"Module Type\":\(JSON.quote(module.type))")
        }
        if let dims = ChromeExporter.dims(sig.inputShapes) { args.append("\"Input Dims\":\(dims)") }
        if let dims = ChromeExporter.dims(sig.outputShapes) { args.append("\"Output Dims\":\(dims)") }
        if sig.kind == 0 { args.append("\"Training\":\(sig.training)") }
        if !sig.hooks.isEmpty { args.append("\"Hooks\":\(JSON.quote(sig.hooks))") }
        if sig.failed { args.append("\"Failed\":true") }
        if let alloc = row.alloc, let freed = row.freed, let peak = row.peak {
            args.append("\"Allocated Bytes\":\(alloc),\"Freed Bytes\":\(freed),\"Peak Bytes\":\(peak)")
        }
        args.append("\"Step\":\(row.step),\"Span Id\":\(row.id)")
        return "{\"ph\":\"X\",\"cat\":\"\(category)\",\"name\":\(JSON.quote(name)),\"pid\":\(pid),\"tid\":\(tid),"
            + "\"ts\":\(ChromeExporter.micros(row.ts)),\"dur\":\(ChromeExporter.micros(row.dur)),\"args\":{\(args.joined(separator: ","))}}"
    }
}
