/// What a span measures.
public enum SpanKind: UInt8, Sendable, CaseIterable {
    /// A module call through its wrapper.
    case forward = 0
    /// The backward work of one module's ops.
    case backward = 1
    /// An optimizer step.
    case optimizer = 2
    /// A user range (`range("data") { ... }`).
    case range = 3
    /// A profiler step, `ProfilerStep#N`.
    case step = 4
    /// One tensor op.
    case op = 5
    /// A collective between ranks (a bucket's all-reduce, a broadcast), on the communication thread.
    case collective = 6
    /// The part of a collective spent waiting for the slowest rank to arrive (measured).
    case commWait = 7
    /// The part of a collective spent moving and reducing data, after every rank arrived.
    case commTransfer = 8

    /// The name used in the database and in exports.
    public var name: String {
        switch self {
        case .forward: "forward"
        case .backward: "backward"
        case .optimizer: "optimizer"
        case .range: "range"
        case .step: "step"
        case .op: "op"
        case .collective: "collective"
        case .commWait: "comm_wait"
        case .commTransfer: "comm_transfer"
        }
    }

    /// True for the kinds whose subject is a module (forward and backward).
    public var isModuleSpan: Bool { self == .forward || self == .backward }
}

/// Bits of `SpanRecord.flags`.
public enum SpanFlag {
    /// The module was in training mode.
    @inlinable public static var training: UInt8 { 1 << 0 }
    /// `forward` threw.
    @inlinable public static var failed: UInt8 { 1 << 1 }
    /// Memory fields are valid.
    @inlinable public static var memory: UInt8 { 1 << 2 }
}

/// Bits of `SpanRecord.hooks`: which kinds of hooks ran in a module call.
public enum HookBit {
    /// A global forward pre-hook ran (`registerGlobalForwardPreHook`).
    /// A full backward hook ran.
    /// A module forward pre-hook ran.
    /// A full backward pre-hook ran.
    /// A global forward hook ran.
    /// A module forward hook ran.
    @inlinable public static var globalForwardPre: UInt8 { 1 << 0 }
    @inlinable public static var forwardPre: UInt8 { 1 << 1 }
    @inlinable public static var globalForward: UInt8 { 1 << 2 }
    @inlinable public static var forward: UInt8 { 1 << 3 }
    @inlinable public static var backwardPre: UInt8 { 1 << 4 }
    @inlinable public static var backward: UInt8 { 1 << 5 }

    /// Human-readable names of the bits in `mask`, in call order.
    public static func names(_ mask: UInt8) -> [String] {
        let all: [(UInt8, String)] = [
            (globalForwardPre, "global_forward_pre"), (forwardPre, "forward_pre"),
            (globalForward, "global_forward"), (forward, "forward"),
            (backwardPre, "backward_pre"), (backward, "backward"),
        ]
        return all.filter { mask & $0.0 != 0 }.map(\.1)
    }
}
