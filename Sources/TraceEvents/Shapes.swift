/// The element type of a recorded tensor.
public enum DTypeCode: UInt8, Sendable {
    case float32 = 0
    case int32 = 1

    /// `float32` or `int32`, as exports show it.
    public var name: String {
        switch self {
        case .float32: "float32"
        case .int32: "int32"
        }
    }
}

/// The dtype and dims of each tensor passed to or returned from a call.
public struct ShapeList: Hashable, Sendable {
    /// One tensor: its element type and dims.
    public struct Entry: Hashable, Sendable {
        /// The element type.
        public var dtype: DTypeCode
        /// The dims, outermost first.
        public var dims: [Int]
        /// One tensor's entry.
        public init(dtype: DTypeCode, dims: [Int]) {
            self.dtype = dtype
            self.dims = dims
        }
    }

    /// The tensors in call order.
    public var entries: [Entry]
    /// A list of `entries`.
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
