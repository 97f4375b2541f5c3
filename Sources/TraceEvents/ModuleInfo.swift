/// What the tracer knows about a module: enough to name it in a trace
/// without holding a reference to it.
public struct ModuleInfo: Sendable, Equatable {
    /// The module's `traceID`, unique in the process.
    public var id: UInt32
    /// Dotted path from its root (`blocks.0.attn`); the root's path is empty.
    public var path: String
    /// The Swift type name (`Linear`).
    public var type: String
    /// The id of the module that registered it, 0 for a root.
    public var parent: UInt32
    /// Parameters it owns directly, and all parameters in its subtree.
    public var directParameters: Int
    /// (see `directParameters`)
    public var totalParameters: Int
    /// Names of the hook kinds registered on it (see `HookBit.names`).
    public var hooks: UInt8
    /// True for the library's own layers, whose `forward` checks that it runs inside its wrapper.
    public var isBuiltIn: Bool
    /// True for holders of modules that have no wrapper of their own (ModuleList).
    public var isContainer: Bool
    /// The ancestor whose wrapper calls this module's (the parent, looking through containers
    /// that may be iterated): 0 for a root, `UInt32.max` when it is registered under several.
    public var wrapperParent: UInt32 = 0
    /// The id of the outermost module of its tree (itself for a root).
    public var root: UInt32 = 0

    /// A description; the runtime builds these when it walks a module tree.
    public init(
        id: UInt32, path: String, type: String, parent: UInt32, directParameters: Int,
        totalParameters: Int, hooks: UInt8, isBuiltIn: Bool, isContainer: Bool = false
    ) {
        self.id = id
        self.path = path
        self.type = type
        self.parent = parent
        self.directParameters = directParameters
        self.totalParameters = totalParameters
        self.hooks = hooks
        self.isBuiltIn = isBuiltIn
        self.isContainer = isContainer
    }

    /// The path, or the type name for a root: what a report shows.
    public var displayName: String { path.isEmpty ? type : path }
}
