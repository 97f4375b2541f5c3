import Synchronization

/// The element type of a recorded tensor.
public enum DTypeCode: UInt8, Sendable {
    case float32 = 0
    case int32 = 1

    public var name: String {
        switch self {
        case .float32: "float32"
        case .int32: "int32"
        }
    }
}

/// The dtype and dims of each tensor passed to or returned from a call.
public struct ShapeList: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var dtype: DTypeCode
        public var dims: [Int]
        public init(dtype: DTypeCode, dims: [Int]) {
            self.dtype = dtype
            self.dims = dims
        }
    }

    public var entries: [Entry]
    public init(_ entries: [Entry]) { self.entries = entries }

    /// Decodes the token form used for interning: per tensor `dtype | rank << 8`, then the dims.
    public init(tokens: [Int32]) {
        var entries: [Entry] = []
        var i = 0
        while i < tokens.count {
            let header = Int(tokens[i])
            let rank = header >> 8
            let dims = (0..<rank).map { Int(tokens[i + 1 + $0]) }
            entries.append(Entry(dtype: DTypeCode(rawValue: UInt8(header & 0xff)) ?? .float32, dims: dims))
            i += 1 + rank
        }
        self.entries = entries
    }

    /// `[64,784]`, several tensors separated by `;`.
    public var text: String {
        entries.map { "[" + $0.dims.map(String.init).joined(separator: ",") + "]" }.joined(separator: ";")
    }

    /// `float32`, several tensors separated by `;`.
    public var dtypes: String { entries.map(\.dtype.name).joined(separator: ";") }
}

/// Process-wide interning of strings and shape lists to small integers.
/// The hot path reaches it only on a per-thread cache miss; the writer looks ids up lazily.
public final class Interner: Sendable {
    public static let shared = Interner()

    private struct State {
        var stringIDs: [String: UInt32] = [:]
        var strings: [String] = [""]
        var shapeIDs: [[Int32]: UInt32] = [:]
        var shapes: [[Int32]] = [[]]
    }
    private let state = Mutex(State())

    /// The id of `string` (ids start at 1).
    public func intern(_ string: String) -> UInt32 {
        state.withLock { s in
            if let id = s.stringIDs[string] { return id }
            let id = UInt32(s.strings.count)
            s.strings.append(string)
            s.stringIDs[string] = id
            return id
        }
    }

    /// The id of a shape list in token form (ids start at 1).
    public func intern(shapeTokens tokens: [Int32]) -> UInt32 {
        state.withLock { s in
            if let id = s.shapeIDs[tokens] { return id }
            let id = UInt32(s.shapes.count)
            s.shapes.append(tokens)
            s.shapeIDs[tokens] = id
            return id
        }
    }

    public func string(_ id: UInt32) -> String {
        state.withLock { s in Int(id) < s.strings.count ? s.strings[Int(id)] : "?" }
    }

    public func shapes(_ id: UInt32) -> ShapeList {
        let tokens = state.withLock { s in Int(id) < s.shapes.count ? s.shapes[Int(id)] : [] }
        return ShapeList(tokens: tokens)
    }
}
