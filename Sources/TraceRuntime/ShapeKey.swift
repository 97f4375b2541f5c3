import CTracing
import TraceEvents

/// The shapes of a call's tensors, built on the stack and interned to an id
/// through a per-thread cache: no allocation and no lock once a shape has been seen.
/// A plain value (no references), so building one costs a few stores.
@usableFromInline package struct ShapeKey {
    @inlinable package static var inlineCapacity: Int { 24 }

    @usableFromInline var tokens: InlineArray<24, Int32>
    @usableFromInline var count: Int
    @usableFromInline var hash: UInt64

    @inlinable package init() {
        tokens = InlineArray(repeating: 0)
        count = 0
        hash = ShapeKey.seed
    }

    @inlinable @inline(__always) mutating func add(_ token: Int32) {
        hash = ShapeKey.mix(hash, token)
        if count < ShapeKey.inlineCapacity { tokens[count] = token }
        count += 1
    }

    /// The hash of no tokens (FNV-1a's offset basis).
    @inlinable static var seed: UInt64 { 0xcbf2_9ce4_8422_2325 }

    /// One step of the key's hash (FNV-1a over tokens).
    @inlinable @inline(__always) static func mix(_ hash: UInt64, _ token: Int32) -> UInt64 {
        (hash ^ UInt64(UInt32(bitPattern: token))) &* 0x100_0000_01b3
    }

    /// The token that starts a tensor: its dtype and rank.
    @inlinable @inline(__always) static func header(_ dtype: DTypeCode, rank: Int) -> Int32 {
        Int32(dtype.rawValue) | Int32(truncatingIfNeeded: rank) << 8
    }

    /// Appends one tensor.
    @inlinable @inline(__always) package mutating func append(dtype: DTypeCode, dims: UnsafeBufferPointer<Int>) {
        add(ShapeKey.header(dtype, rank: dims.count))
        for d in dims { add(Int32(truncatingIfNeeded: d)) }
    }

    /// False when there were more tokens than fit (many high-rank tensors): such a key is
    /// interned from `ShapeList` tokens built on the slow path instead.
    @inlinable package var isComplete: Bool { count <= ShapeKey.inlineCapacity }

    var allTokens: [Int32] { (0..<min(count, ShapeKey.inlineCapacity)).map { tokens[$0] } }

    /// The token form of shape lists too long for a key (the slow path).
    @usableFromInline package static func tokens(_ entries: [(dtype: DTypeCode, dims: [Int])]) -> [Int32] {
        entries.flatMap { [Int32(Int32($0.dtype.rawValue) | Int32($0.dims.count) << 8)] + $0.dims.map { Int32(truncatingIfNeeded: $0) } }
    }
}

/// One entry of the per-thread shape cache.
@usableFromInline struct ShapeSlot {
    @usableFromInline var hash: UInt64
    @usableFromInline var id: UInt32
    @usableFromInline var count: UInt32
    @usableFromInline var tokens: InlineArray<24, Int32>
}

extension ThreadTrace {
    @usableFromInline static let shapeSlotCount = 1024

    /// The interned id of a complete `key` (see `ShapeKey.isComplete`).
    @inlinable package mutating func intern(_ key: inout ShapeKey) -> UInt32 {
        if let id = cachedShape(hash: key.hash, count: key.count, token: { key.tokens[$0] }) { return id }
        return internSlow(&key)
    }

    /// The interned id of one tensor's shape: what `intern` returns for the key of that tensor
    /// alone, without building the key when the cache holds it. 0 when the shape has more tokens
    /// than a key holds (intern those from `ShapeKey.tokens`).
    @inlinable package mutating func intern(dtype: DTypeCode, dims: UnsafeBufferPointer<Int>) -> UInt32 {
        guard dims.count < ShapeKey.inlineCapacity else { return 0 }
        let header = ShapeKey.header(dtype, rank: dims.count)
        var hash = ShapeKey.mix(ShapeKey.seed, header)
        for d in dims { hash = ShapeKey.mix(hash, Int32(truncatingIfNeeded: d)) }
        let token = { (i: Int) -> Int32 in i == 0 ? header : Int32(truncatingIfNeeded: dims[i &- 1]) }
        if let id = cachedShape(hash: hash, count: dims.count + 1, token: token) { return id }
        var key = ShapeKey()
        key.append(dtype: dtype, dims: dims)
        return internSlow(&key)
    }

    /// The id of the cached key with `hash` whose `count` tokens are `token(0)`, `token(1)`, ...
    @inlinable @inline(__always) mutating func cachedShape(hash: UInt64, count: Int, token: (Int) -> Int32) -> UInt32? {
        // Ids belong to a session's interner: a cache filled in another session is stale.
        if shapeEpoch != ct_get_epoch() { clearShapeCache() }
        let mask = ThreadTrace.shapeSlotCount - 1
        var index = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
        for _ in 0..<8 {
            let slot = shapeSlots + index
            if slot.pointee.id == 0 { return nil }
            if slot.pointee.hash == hash && Int(slot.pointee.count) == count {
                var same = true
                for i in 0..<count where slot.pointee.tokens[i] != token(i) {
                    same = false
                    break
                }
                if same { return slot.pointee.id }
            }
            index = (index + 1) & mask
        }
        return nil
    }

    @usableFromInline mutating func clearShapeCache() {
        shapeSlots.update(
            repeating: ShapeSlot(hash: 0, id: 0, count: 0, tokens: InlineArray(repeating: 0)),
            count: ThreadTrace.shapeSlotCount)
        shapeEpoch = ct_get_epoch()
    }

    @usableFromInline mutating func internSlow(_ key: inout ShapeKey) -> UInt32 {
        guard let session = Tracer.current else { return 0 }
        let id = session.names.intern(shapeTokens: key.allTokens)
        let mask = ThreadTrace.shapeSlotCount - 1
        var index = Int(truncatingIfNeeded: key.hash ^ (key.hash >> 29)) & mask
        for _ in 0..<8 {
            if shapeSlots[index].id == 0 { break }
            index = (index + 1) & mask
        }
        shapeSlots[index] = ShapeSlot(hash: key.hash, id: id, count: UInt32(key.count), tokens: key.tokens)
        return id
    }
}
