import CTracing

/// An open span on a thread's stack.
@usableFromInline struct Frame {
    @usableFromInline var id: UInt64 = 0
    @usableFromInline var parent: UInt64 = 0
    @usableFromInline var start: UInt64 = 0
    @usableFromInline var allocated: Int64 = 0
    @usableFromInline var freed: Int64 = 0
    @usableFromInline var savedPeak: Int64 = 0
    @usableFromInline var epoch: UInt32 = 0
    @usableFromInline var subject: UInt32 = 0
    @usableFromInline var inputShapes: UInt32 = 0
    @usableFromInline var step: UInt32 = 0
    /// The module of the innermost forward span at or below this one in the same session (0 if
    /// none): what `SpanTracer.innermostModule` answers while this span is on top.
    @usableFromInline var innermost: UInt32 = 0
    @usableFromInline var depth: UInt16 = 0
    @usableFromInline var kind: UInt8 = 0
    @usableFromInline var flags: UInt8 = 0
    @usableFromInline init() {}
}

/// A thread's tracing state: its stack of open spans and its buffer of finished ones.
/// Lives in manually managed memory reached from a C thread-local pointer, so the hot
/// path touches no reference counts, no locks and no exclusivity checks.
@usableFromInline package struct ThreadTrace {
    @usableFromInline static let frameCapacity = 512
    @usableFromInline static let ringCapacity = 1 << 16
    @usableFromInline static let idBlock: UInt64 = 4096
    static var ringBytes: Int { ringCapacity * MemoryLayout<SpanRecord>.stride }

    /// Finished spans, a single-producer single-consumer ring.
    @usableFromInline var ring: UnsafeMutablePointer<SpanRecord>
    /// `[0]` head (next write, owned by this thread), `[8]` tail (next read, owned by the
    /// drain), `[16]` spans dropped because the ring was full or the stack too deep,
    /// `[24]` 1 once the thread has exited. Separate cache lines.
    @usableFromInline var shared: UnsafeMutablePointer<UInt64>
    @usableFromInline var frames: UnsafeMutablePointer<Frame>
    @usableFromInline var depth: Int
    @usableFromInline var nextID: UInt64
    @usableFromInline var idLimit: UInt64
    @usableFromInline var shapeSlots: UnsafeMutablePointer<ShapeSlot>
    /// The session this thread last opened a span in.
    @usableFromInline var epoch: UInt32 = 0
    /// The session whose interned ids `shapeSlots` hold.
    @usableFromInline var shapeEpoch: UInt32 = 0
    /// Whether this thread's calls can be judged when it has no span open, as of session `judgedEpoch`.
    @usableFromInline var judgedEpoch: UInt32 = 0
    @usableFromInline var judgeable = false
    /// The tracer's index of this thread, and the kernel's id.
    @usableFromInline package let index: UInt16
    @usableFromInline package let osThreadID: Int32

    init(index: UInt16) {
        let bytes = ThreadTrace.ringBytes
        guard let memory = ct_ring_allocate(bytes) else { fatalError("tracer: cannot allocate a span ring of \(bytes) bytes") }
        ring = memory.bindMemory(to: SpanRecord.self, capacity: ThreadTrace.ringCapacity)
        shared = .allocate(capacity: 32)
        shared.initialize(repeating: 0, count: 32)
        frames = .allocate(capacity: ThreadTrace.frameCapacity)
        frames.initialize(repeating: Frame(), count: ThreadTrace.frameCapacity)
        depth = 0
        nextID = 0
        idLimit = 0
        shapeSlots = .allocate(capacity: ThreadTrace.shapeSlotCount)
        shapeSlots.initialize(
            repeating: ShapeSlot(hash: 0, id: 0, count: 0, tokens: InlineArray(repeating: 0)),
            count: ThreadTrace.shapeSlotCount)
        self.index = index
        osThreadID = ct_thread_id()
    }

    func deallocate() {
        ct_ring_free(ring, ThreadTrace.ringBytes)
        shared.deallocate()
        frames.deallocate()
        shapeSlots.deallocate()
    }

    /// The calling thread's state, created on first use.
    @inlinable package static var current: UnsafeMutablePointer<ThreadTrace> {
        if let raw = ct_state().pointee.context { return raw.assumingMemoryBound(to: ThreadTrace.self) }
        return Tracer.registerCurrentThread()
    }

    @inlinable mutating func takeID(epoch current: UInt32) -> UInt64 {
        if epoch != current {
            // A new session: ids must come from blocks handed out after it began.
            epoch = current
            idLimit = nextID
        }
        if nextID == idLimit {
            nextID = ct_take_span_block(ThreadTrace.idBlock)
            idLimit = nextID &+ ThreadTrace.idBlock
        }
        defer { nextID &+= 1 }
        return nextID
    }

    @inlinable mutating func countDropped() { _ = ct_fetch_add(shared + 16, 1) }

    /// The next free slot of the ring, or nil (counted as a drop) when the ring is full.
    @inlinable mutating func reserve() -> UnsafeMutablePointer<SpanRecord>? {
        let head = shared.pointee
        if head &- ct_load_acquire(shared + 8) >= UInt64(ThreadTrace.ringCapacity) {
            countDropped()
            return nil
        }
        return ring + Int(head & UInt64(ThreadTrace.ringCapacity - 1))
    }

    /// Publishes the slot `reserve()` returned.
    @inlinable mutating func commit() {
        let head = shared.pointee &+ 1
        ct_store_release(shared, head)
        // The next slot is cold (the ring is larger than the caches): fetch it now, not when
        // the next span ends, so that the next write does not stall the pipeline.
        let next = UnsafeRawPointer(ring + Int(head & UInt64(ThreadTrace.ringCapacity - 1)))
        ct_prefetch_write(next)
        ct_prefetch_write(next + 64)
    }
}
