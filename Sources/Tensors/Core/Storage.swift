import CTracing

/// A block of tensor memory. Every tensor byte is allocated here, so the live,
/// peak and allocation counters are exact; memory is returned when the last
/// tensor (or view) using the storage goes away.
public final class Storage {
    /// 64-byte aligned, for AVX-512 loads.
    public let base: UnsafeMutableRawPointer
    /// The size of the block, in bytes.
    public let byteCount: Int

    init(byteCount: Int) {
        self.byteCount = byteCount
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, max(byteCount, 64))
        precondition(rc == 0 && raw != nil, "out of memory allocating \(byteCount) bytes of tensor storage")
        base = raw!
        ct_note_alloc(Int64(byteCount))
    }

    deinit {
        free(base)
        ct_note_free(Int64(byteCount))
    }
}

/// The allocator's counters: live and peak bytes across the process, and this
/// thread's totals.
public enum MemoryStats {
    /// Tensor bytes currently allocated in the process.
    public static var liveBytes: Int { Int(ct_get_live_bytes()) }
    /// The highest `liveBytes` since the process started or `resetPeak()`.
    public static var peakBytes: Int { Int(ct_get_peak_bytes()) }
    /// Allocations made by the calling thread.
    public static var allocations: Int { Int(ct_state().pointee.allocations) }
    /// Bytes allocated by the calling thread.
    public static var allocatedBytes: Int { Int(ct_state().pointee.allocated) }
    /// Bytes allocated minus bytes freed by the calling thread: the live bytes this
    /// thread accounts for (exact when tensors are created and released on one thread).
    public static var threadLiveBytes: Int { Int(ct_state().pointee.allocated - ct_state().pointee.freed) }
    /// Starts a new peak measurement from the current live bytes.
    public static func resetPeak() { ct_reset_peak_bytes() }
}

#if canImport(Glibc)
    import Glibc
#endif
