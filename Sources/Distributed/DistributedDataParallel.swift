import Modules
import Tensors
import TraceEvents
import TraceRuntime

/// Data-parallel training of `module` over a process group, like PyTorch's
/// `DistributedDataParallel`: an ordinary `Module` whose forward arms gradient
/// synchronisation. Construct it on every rank with the same model; call it (not
/// `module`) in the training step; gradients are all-reduced and averaged during backward.
///
/// - At construction, parameters and buffers are broadcast from rank 0.
/// - Each training forward broadcasts the buffers (BatchNorm statistics) from rank 0 first.
/// - Gradients are packed into buckets (reverse parameter order, `bucketCapMB` each), and
///   each bucket is all-reduced as soon as its gradients are ready, overlapping backward.
/// - Parameters that get no gradient in a step are sent as zeros when backward ends.
/// - `noSync { }` skips synchronisation for gradient accumulation. Put the forward inside
///   the block: synchronisation is decided by the forward, so a block around `backward()`
///   alone still synchronises (PyTorch's `no_sync` has the same rule).
/// - Calling `ddp.module(x)` or `forward` directly skips the wrapper: gradients are not
///   synchronised. `bypasses` records it in the step it happens (see `DDPBypass`).
public final class DistributedDataParallel: Module<Tensor, Tensor> {
    /// The wrapped model (its parameter paths get the `module.` prefix, as in PyTorch).
    public let module: Module<Tensor, Tensor>
    /// The ranks this model is replicated on.
    public let group: ProcessGroup
    /// Broadcast buffers from rank 0 before each training forward (PyTorch's default).
    public let broadcastBuffers: Bool
    let reducer: Reducer
    private let buffers: [Tensor]
    private var syncEnabled = true
    private var forwardDepth = 0
    /// What the last forward was: synchronised, under `noSync`, or none since the last backward.
    private var lastForward: ForwardKind = .none
    /// Steps whose gradients were not all-reduced, in order (bounded: the first 100 are kept).
    public private(set) var bypasses: [DDPBypass] = []
    /// Called with each bypass as it is detected (the default prints one line to stderr).
    public var onBypass: ((DDPBypass) -> Void)? = { DDPBypass.warn($0) }
    /// Backward passes so far (the step a bypass is reported in).
    public private(set) var backwardCount = 0
    /// Backward passes under `noSync` since the last synchronised one.
    public private(set) var unsyncedSteps = 0

    enum ForwardKind { case none, synced, noSync }

    /// Wraps `module`. `bucketCapMB` caps a gradient bucket (PyTorch: 25); the first bucket is
    /// at most 1 MiB. Throws if the broadcast from rank 0 fails.
    public init(
        _ module: Module<Tensor, Tensor>, group: ProcessGroup, bucketCapMB: Double = 25,
        broadcastBuffers: Bool = true
    ) throws {
        precondition(bucketCapMB > 0, "DistributedDataParallel: bucketCapMB must be positive")
        self.module = module
        self.group = group
        self.broadcastBuffers = broadcastBuffers
        let parameters = module.parameters()
        buffers = module.namedBuffers().map(\.tensor)
        let cap = Int(bucketCapMB * 1_048_576)
        reducer = Reducer(group: group, parameters: parameters, capBytes: cap, firstCapBytes: min(cap, 1_048_576))
        super.init()
        try broadcast(parameters, label: "parameters")
        try broadcast(buffers, label: "buffers")
        reducer.onUnarmedGradients = { [weak self] bytes, count in self?.unarmedGradients(bytes: bytes, count: count) }
        reducer.onSynced = { [weak self] in self?.countSyncedBackward() }
        module.registerForwardPreHook { [weak self] _, _ in
            self?.checkInsideWrapper(of: module)
            return nil
        }
    }

    /// The number of gradient buckets and their sizes in bytes, in all-reduce order.
    public var bucketBytes: [Int] { reducer.layout.buckets.map(\.bytes) }

    /// Parameter paths (relative to `module`) in each bucket.
    public var bucketParameters: [[String]] {
        let names = module.namedParameters().map(\.path)
        return reducer.layout.buckets.map { $0.parameters.map { names[$0] } }
    }

    /// Per bucket, from the last synchronised backward: nanoseconds waiting for the slowest
    /// rank (measured when tracing), transferring, and bytes.
    public var lastBucketTimings: [(waitNs: UInt64, transferNs: UInt64, bytes: Int)] { reducer.lastTimings }

    /// Of the last synchronised step's all-reduce time, the fraction that ran before backward
    /// ended (hidden under backward), from the communication thread's own timestamps.
    public var lastHiddenFraction: Double {
        let (end, buckets) = reducer.lastTimeline
        let total = buckets.reduce(0.0) { $0 + Double($1.endNs - $1.startNs) }
        let hidden = buckets.reduce(0.0) { $0 + Double(min($1.endNs, end) - min($1.startNs, end)) }
        return total > 0 ? hidden / total : 0
    }

    /// Broadcasts buffers (training), arms gradient sync unless under `noSync`, then calls `module`.
    public override func forward(_ x: Tensor) throws -> Tensor {
        let sync = syncEnabled && GradMode.isEnabled && isTraining
        if isTraining && broadcastBuffers && !buffers.isEmpty { try broadcast(buffers, label: "buffers") }
        reducer.prepareForForward(sync: sync)
        lastForward = sync ? .synced : (isTraining && GradMode.isEnabled ? .noSync : lastForward)
        forwardDepth += 1
        defer { forwardDepth -= 1 }
        return try module(x)
    }

    /// Runs `body` without gradient synchronisation (gradient accumulation). The forward must
    /// be inside the block; the first forward after it synchronises the accumulated gradients.
    public func noSync<R>(_ body: () throws -> R) rethrows -> R {
        let saved = syncEnabled
        syncEnabled = false
        defer { syncEnabled = saved }
        return try body()
    }

    // MARK: Bypass

    private func checkInsideWrapper(of module: AnyModule) {
        if forwardDepth == 0 && isTraining && GradMode.isEnabled { lastForward = .none }
    }

    private func unarmedGradients(bytes: Int, count: Int) {
        backwardCount += 1
        let deliberate = lastForward == .noSync
        defer { lastForward = .none }
        guard !deliberate else {
            unsyncedSteps += 1
            return
        }
        let bypass = DDPBypass(
            backward: backwardCount, unsyncedGradientBytes: bytes, unsyncedParameters: count,
            buffersNotBroadcast: broadcastBuffers ? buffers.count : 0,
            bufferBytesNotBroadcast: broadcastBuffers ? buffers.reduce(0) { $0 + $1.byteCount } : 0,
            rank: group.rank)
        if bypasses.count < 100 { bypasses.append(bypass) }
        Tracer.current?.findings.report(
            module: traceID, caller: module.traceID, evidence: .ddpForwardSkipped,
            step: TraceSession.step, detail: bypass.traceDetail)
        onBypass?(bypass)
    }

    /// Counts a synchronised backward (called by the reducer's end-of-backward work).
    func countSyncedBackward() {
        backwardCount += 1
        unsyncedSteps = 0
        lastForward = .none
    }

    // MARK: Broadcast

    private func broadcast(_ tensors: [Tensor], label: String) throws {
        guard group.size > 1 else { return }
        let floats = tensors.filter { $0.dtype == .float32 }
        if !floats.isEmpty {
            var flat = [Float]()
            flat.reserveCapacity(floats.reduce(0) { $0 + $1.count })
            for t in floats { flat += t.contiguous().scalars }
            try group.broadcast(&flat, root: 0, label: label)
            var offset = 0
            for t in floats {
                precondition(t.isContiguous, "DistributedDataParallel: \(label) must be contiguous to be broadcast in place")
                flat.withUnsafeBufferPointer { t.floats.update(from: $0.baseAddress! + offset, count: t.count) }
                offset += t.count
            }
        }
        let ints = tensors.filter { $0.dtype == .int32 }
        if !ints.isEmpty {
            var flat = ints.flatMap(\.indexScalars)
            try group.broadcast(&flat, root: 0, label: label)
            var offset = 0
            for t in ints {
                flat.withUnsafeBufferPointer { t.ints.update(from: $0.baseAddress! + offset, count: t.count) }
                offset += t.count
            }
        }
    }
}
