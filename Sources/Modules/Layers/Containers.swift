import Tensors

/// Calls its layers in order, each through its wrapper. Children are named `0`, `1`, ...
open class Sequential: Module<Tensor, Tensor> {
    public var layers: [Module<Tensor, Tensor>]

    public init(_ layers: [Module<Tensor, Tensor>]) {
        self.layers = layers
        super.init()
    }

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
}

/// Holds modules under names `0`, `1`, ... without calling them (PyTorch's `nn.ModuleList`).
open class ModuleList<Element: AnyModule>: AnyModule, RandomAccessCollection {
    public var modules: [Element]

    public init(_ modules: [Element]) {
        self.modules = modules
        super.init()
    }

    public var startIndex: Int { modules.startIndex }
    public var endIndex: Int { modules.endIndex }
    public subscript(index: Int) -> Element { modules[index] }

    open override var children: [(name: String, module: AnyModule)] {
        modules.enumerated().map { ("\($0.offset)", $0.element) }
    }
}
