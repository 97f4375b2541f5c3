import TraceEvents
import TraceRuntime

/// The `signatures` table: what spans share (kind, subject, thread, depth, shapes, flags, hooks),
/// stored once per run and found again through a cache. Used on the drain thread only.
final class SignatureTable {
    struct Key: Hashable {
        var kind: UInt8, subject: UInt32, thread: UInt16, depth: UInt16
        var inputs: UInt32, outputs: UInt32, flags: UInt8, hooks: UInt8
    }

    private let db: Database
    private let runID: Int64
    private let insert: Statement
    private let interned: InternTables
    private var ids: [Key: Int64] = [:]
    /// (Exclusivity unchecked: only drains touch it, and drains never overlap; the checks cost more than the per-span work.)
    @exclusivity(unchecked) private var cache = SignatureCache()

    init(_ db: Database, runID: Int64, interned: InternTables) throws {
        self.db = db
        self.runID = runID
        self.interned = interned
        insert = try db.prepare(
            """
            INSERT INTO signatures(run_id, kind, module_id, name_id, thread, depth, input_shapes, output_shapes, flags, hooks_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// The signature of `r` if one is known (the per-span fast path), else nil.
    @inline(__always)
    func cached(_ r: SpanRecord) -> Int64? {
        let id = cache.lookup(r)
        return id >= 0 ? id : nil
    }

    /// The signature of `r`, stored if new.
    func id(for r: SpanRecord) throws -> Int64 {
        // A step span's subject is its step number, already in the `step` column.
        let subject = r.kind == SpanKind.step.rawValue ? 0 : r.subject
        let key = Key(
            kind: r.kind, subject: subject, thread: r.thread, depth: r.depth,
            inputs: r.inputShapes, outputs: r.outputShapes,
            flags: r.flags & (SpanFlag.training | SpanFlag.failed), hooks: r.hooks)
        if let id = ids[key] {
            cache.insert(r, id)
            return id
        }
        let isModule = r.kind == SpanKind.forward.rawValue || r.kind == SpanKind.backward.rawValue
        let hooks = HookBit.names(r.hooks)
        try insert.run([
            .int(runID), .int(Int64(r.kind)),
            isModule ? .int(Int64(r.subject)) : .null,
            isModule || r.kind == SpanKind.step.rawValue ? .null : .int(try interned.stringID(r.subject)),
            .int(Int64(r.thread)), .int(Int64(r.depth)),
            r.inputShapes == 0 ? .null : .int(try interned.shapeID(r.inputShapes)),
            r.outputShapes == 0 ? .null : .int(try interned.shapeID(r.outputShapes)),
            .int(Int64(key.flags)),
            hooks.isEmpty ? .null : .int(try interned.textID(hooks.joined(separator: ","))),
        ])
        let id = db.lastInsertID
        ids[key] = id
        cache.insert(r, id)
        return id
    }
}

/// Signature ids by the fields that make a signature, in an open-addressing table with a
/// cheap hash (the writer looks one up per span).
struct SignatureCache {
    private var keys: [(UInt64, UInt64, UInt64)]
    private var ids: [Int64]
    private var used = 0

    init() {
        keys = Array(repeating: (0, 0, 0), count: 1024)
        ids = Array(repeating: -1, count: 1024)
    }

    /// The fields of `r` that a signature is made of, packed exactly.
    @inline(__always)
    static func key(_ r: SpanRecord) -> (UInt64, UInt64, UInt64) {
        let subject = r.kind == SpanKind.step.rawValue ? 0 : r.subject
        let a = UInt64(subject) | UInt64(r.thread) << 32 | UInt64(r.depth) << 48
        let b = UInt64(r.inputShapes) | UInt64(r.outputShapes) << 32
        let c = UInt64(r.kind) | UInt64(r.flags & (SpanFlag.training | SpanFlag.failed)) << 8 | UInt64(r.hooks) << 16
        return (a, b, c)
    }

    @inline(__always)
    static func slot(_ k: (UInt64, UInt64, UInt64), _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (k.0 &* 0x9e37_79b9_7f4a_7c15 ^ k.1 &* 0xc2b2_ae3d_27d4_eb4f ^ k.2 &* 0x1656_67b1_9e37_79f9) >> 20) & mask
    }

    /// The id stored for `r`'s fields, or −1.
    @inline(__always)
    func lookup(_ r: SpanRecord) -> Int64 {
        let k = SignatureCache.key(r)
        let mask = keys.count - 1
        var i = SignatureCache.slot(k, mask)
        while ids[i] >= 0 {
            if keys[i] == k { return ids[i] }
            i = (i + 1) & mask
        }
        return -1
    }

    mutating func insert(_ r: SpanRecord, _ id: Int64) {
        if (used + 1) * 2 > keys.count { grow() }
        put(SignatureCache.key(r), id)
    }

    private mutating func put(_ k: (UInt64, UInt64, UInt64), _ id: Int64) {
        let mask = keys.count - 1
        var i = SignatureCache.slot(k, mask)
        while ids[i] >= 0 {
            if keys[i] == k { return }
            i = (i + 1) & mask
        }
        keys[i] = k
        ids[i] = id
        used += 1
    }

    private mutating func grow() {
        let old = zip(keys, ids).filter { $0.1 >= 0 }
        keys = Array(repeating: (0, 0, 0), count: keys.count * 2)
        ids = Array(repeating: -1, count: ids.count * 2)
        used = 0
        for (k, id) in old { put(k, id) }
    }
}
