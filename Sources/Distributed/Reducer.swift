import Tensors
import TraceEvents
import TraceRuntime

/// Gradient synchronisation of one `DistributedDataParallel`: a hook on every parameter
/// copies its accumulated gradient into its bucket; a bucket whose gradients are all in is
/// all-reduced at once, without blocking, while backward goes on (buckets start in index
/// order, the same on every rank). When backward ends, buckets still waiting for a
/// parameter that got no gradient this step are sent with zeros there, then every bucket
/// is waited for and the averages written back to `grad`. No graph traversal per step.
final class Reducer {
    /// The span on the training thread while it waits for the buckets at the end of backward.
    static let syncSpanName = "ddp wait for all_reduce"
    let group: ProcessGroup
    let parameters: [Tensor]
    let layout: GradientBuckets
    private let buffers: [CollectiveBuffer<Float>]
    private var work: [Work?]
    private var filled: [Int]
    private var ready: [Bool]
    private var nextBucket = 0
    private var finishQueued = false
    /// Set by the wrapper's forward when this step's backward must synchronise.
    private(set) var armed = false
    /// Gradients that arrived while not armed since the last armed forward: bytes and count.
    private(set) var unsyncedBytes = 0
    private(set) var unsyncedParameters = 0
    /// Called once per backward pass in which gradients arrived without the wrapper's
    /// forward having armed synchronisation (bytes of gradient that were not all-reduced).
    var onUnarmedGradients: ((_ bytes: Int, _ parameters: Int) -> Void)?
    /// Called when a synchronised backward finished.
    var onSynced: (() -> Void)?
    /// What the last finished synchronisation took: per bucket, wait and transfer ns.
    private(set) var lastTimings: [(waitNs: UInt64, transferNs: UInt64, bytes: Int)] = []
    /// The last synchronised backward: when it ended (monotonic ns) and each bucket's
    /// all-reduce interval on the communication thread.
    private(set) var lastTimeline: (backwardEndNs: UInt64, buckets: [(startNs: UInt64, endNs: UInt64)]) = (0, [])

    init(group: ProcessGroup, parameters: [Tensor], capBytes: Int, firstCapBytes: Int) {
        self.group = group
        self.parameters = parameters
        layout = GradientBuckets(parameters: parameters, capBytes: capBytes, firstCapBytes: firstCapBytes)
        buffers = layout.buckets.map { CollectiveBuffer<Float>(count: $0.count) }
        work = Array(repeating: nil, count: layout.buckets.count)
        filled = Array(repeating: 0, count: layout.buckets.count)
        ready = Array(repeating: false, count: parameters.count)
        for (index, parameter) in parameters.enumerated() {
            parameter.registerPostAccumulateGradHook { [weak self] tensor in self?.gradientReady(index, tensor) }
        }
    }

    /// The wrapper's forward: the next backward synchronises (or not, under `noSync`).
    func prepareForForward(sync: Bool) {
        armed = sync
        unsyncedBytes = 0
        unsyncedParameters = 0
    }

    private func gradientReady(_ index: Int, _ parameter: Tensor) {
        guard armed else {
            if unsyncedParameters == 0 {
                BackwardCallbacks.queue { [weak self] in
                    guard let self else { return }
                    onUnarmedGradients?(unsyncedBytes, unsyncedParameters)
                    (unsyncedBytes, unsyncedParameters) = (0, 0)
                }
            }
            unsyncedBytes += parameter.byteCount
            unsyncedParameters += 1
            return
        }
        if !finishQueued {
            finishQueued = BackwardCallbacks.queue { [weak self] in try self?.finish() }
        }
        guard !ready[index], let grad = parameter.grad else { return }
        ready[index] = true
        let (bucket, slot) = layout.location[index]
        copy(grad, into: bucket, slot: slot)
        filled[bucket] += 1
        launchReadyBuckets()
    }

    private func copy(_ grad: Tensor, into bucket: Int, slot: Int) {
        let offset = layout.buckets[bucket].offsets[slot]
        let source = grad.isContiguous ? grad : grad.contiguous()
        (buffers[bucket].pointer + offset).update(from: source.floats, count: source.count)
    }

    /// Starts every bucket, in index order, whose gradients are all in.
    private func launchReadyBuckets() {
        while nextBucket < layout.buckets.count && filled[nextBucket] == layout.buckets[nextBucket].parameters.count {
            launch(nextBucket)
        }
    }

    private func launch(_ bucket: Int) {
        work[bucket] = group.allReduceAsync(buffers[bucket], label: "bucket \(bucket)")
        nextBucket = bucket + 1
    }

    /// End of backward: send what is left (zeros for parameters without a gradient), wait,
    /// and write the averages back.
    func finish() throws {
        defer { reset() }
        let backwardEnd = Clock.monotonicNanoseconds()
        for bucket in nextBucket..<layout.buckets.count {
            let spec = layout.buckets[bucket]
            for (slot, index) in spec.parameters.enumerated() where !ready[index] {
                (buffers[bucket].pointer + spec.offsets[slot]).update(repeating: 0, count: parameters[index].count)
            }
            launch(bucket)
        }
        // The training thread blocked on communication: the exposed part of the all-reduces.
        let span =
            TraceFlags.current.contains(.spans)
            ? Tracer.current.map {
                SpanTracer.begin(.collective, subject: $0.names.intern(Reducer.syncSpanName))
            } ?? -1 : -1
        defer { if span >= 0 { SpanTracer.end(span) } }
        var failure: (any Error)?
        var timings: [(waitNs: UInt64, transferNs: UInt64, bytes: Int)] = []
        var intervals: [(startNs: UInt64, endNs: UInt64)] = []
        for (bucket, spec) in layout.buckets.enumerated() {
            guard let work = work[bucket] else { continue }
            do { try work.wait() } catch {
                failure = failure ?? error
                continue
            }
            timings.append((work.waitNs, work.transferDurationNs, spec.bytes))
            intervals.append((work.startedNs, work.finishedNs))
            let scale = 1 / Float(group.size)
            let buffer = buffers[bucket].pointer
            for (slot, index) in spec.parameters.enumerated() {
                let parameter = parameters[index]
                let averaged = Tensor.zeros(parameter.shape)
                let source = buffer + spec.offsets[slot]
                for i in 0..<parameter.count { averaged.floats[i] = source[i] * scale }
                parameter.grad = averaged
            }
        }
        lastTimings = timings
        lastTimeline = (backwardEnd, intervals)
        onSynced?()
        if let failure { throw failure }
    }

    private func reset() {
        for i in work.indices { work[i] = nil }
        for i in filled.indices { filled[i] = 0 }
        for i in ready.indices { ready[i] = false }
        nextBucket = 0
        finishQueued = false
        armed = false
    }
}
