import Tensors

/// Calls its layers in order, each through its wrapper. Children are named `0`, `1`, ...
open class Sequential: Module<Tensor, Tensor> {
    /// The layers, called in order; children `0`, `1`, ...
    public var layers: [Module<Tensor, Tensor>]

    /// Calls `layers` in order.
    public init(_ layers: [Module<Tensor, Tensor>]) {
        self.layers = layers
        super.init()
    }

    /// Calls `layers` in order.
    public convenience init(_ layers: Module<Tensor, Tensor>...) { self.init(layers) }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        var y = x
        for layer in layers { y = try layer(y) }
        return y
    }

    open override var children: [(name: String, module: AnyModule)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    open override var isBuiltIn: Bool { true }
    open override var childrenMayRunAlone: Bool { true }

    /// The layer at `index` (negative counts from the end, as in PyTorch); settable.
    public subscript(index: Int) -> Module<Tensor, Tensor> {
        get { layers[Self.position(index, layers.count)] }
        set { layers[Self.position(index, layers.count)] = newValue }
    }

    /// A new `Sequential` holding the layers in `range` (the same module objects, as PyTorch's slice).
    public subscript(range: Range<Int>) -> Sequential { Sequential(Array(layers[range])) }

    /// Number of layers.
    public var count: Int { layers.count }

    /// Adds `layer` at the end.
    public func append(_ layer: Module<Tensor, Tensor>) { layers.append(layer) }

    /// Inserts `layer` before position `index` (negative counts from the end).
    public func insert(_ layer: Module<Tensor, Tensor>, at index: Int) {
        layers.insert(layer, at: index < 0 ? max(layers.count + index, 0) : min(index, layers.count))
    }

    static func position(_ index: Int, _ count: Int) -> Int {
        let i = index < 0 ? index + count : index
        precondition((0..<count).contains(i), "index \(index) out of range for \(count) modules")
        return i
    }
}

/// Holds modules under names `0`, `1`, ... without calling them (PyTorch's `nn.ModuleList`).
open class ModuleList<Element: AnyModule>: AnyModule, RandomAccessCollection {
    /// The modules; each is named by its index.
    public var modules: [Element]

    /// Holds `modules` under names `0`, `1`, ...
    public init(_ modules: [Element]) {
        self.modules = modules
        super.init()
    }

    /// The first index (0).
    public var startIndex: Int { modules.startIndex }
    /// One past the last index (the number of modules).
    public var endIndex: Int { modules.endIndex }
    /// The module at `index`; settable (replacing a module renames nothing: the index is the name).
    public subscript(index: Int) -> Element {
        get { modules[index] }
        set { modules[index] = newValue }
    }

    /// Adds `module` at the end (named by its index).
    public func append(_ module: Element) { modules.append(module) }

    /// Adds `others` at the end.
    public func append(contentsOf others: [Element]) { modules.append(contentsOf: others) }

    /// Inserts `module` before position `index` (negative counts from the end, as PyTorch's
    /// `insert`); the names of the modules after it move up by one.
    public func insert(_ module: Element, at index: Int) {
        modules.insert(module, at: index < 0 ? Swift.max(modules.count + index, 0) : Swift.min(index, modules.count))
    }

    open override var children: [(name: String, module: AnyModule)] {
        modules.enumerated().map { ("\($0.offset)", $0.element) }
    }
}

/// Holds modules by name, in insertion order, without calling them (PyTorch's `nn.ModuleDict`).
/// Children are named by their keys, so `dict["encoder"]`'s weight is `encoder.weight`.
open class ModuleDict<Element: AnyModule>: AnyModule {
    /// The keys in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: Element] = [:]

    /// Holds `entries` in order, named by their keys.
    public init(_ entries: KeyValuePairs<String, Element> = [:]) {
        super.init()
        for (key, module) in entries { self[key] = module }
    }

    /// The module under `key`; setting nil removes it, setting an existing key replaces the
    /// module in place (keeping its position), a new key goes at the end.
    public subscript(key: String) -> Element? {
        get { storage[key] }
        set {
            precondition(!key.isEmpty && !key.contains("."), "ModuleDict: key '\(key)' must be non-empty and contain no '.'")
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The modules in key order.
    public var values: [Element] { keys.map { storage[$0]! } }

    /// Number of entries.
    public var count: Int { keys.count }

    open override var children: [(name: String, module: AnyModule)] { keys.map { ($0, storage[$0]!) } }
}
