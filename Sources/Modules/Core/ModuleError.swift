import Tensors

/// An error thrown inside a module's wrapper (by `forward`, an op, or a hook), with the
/// path of the module where it happened and the shapes that module was given.
/// Each enclosing wrapper prepends its child's name, so the path is the real call path.
public struct ModuleError: Error, CustomStringConvertible {
    /// Names from the outermost module that saw the error down to where it happened.
    public internal(set) var path: [String]
    /// Type of the module where it happened, and of the outermost module.
    public let moduleType: String
    /// The type of the outermost module whose wrapper the error passed through.
    public internal(set) var rootType: String
    /// Shapes of the failing module's input, `[64,784];[64]`.
    public let inputShapes: String
    /// The error `forward` threw.
    public let underlying: any Error
    /// Identity of the outermost module seen so far (the next parent looks its child up by it).
    let head: ObjectIdentifier

    /// The dotted module path (`blocks.0.attn`); empty when the root itself failed.
    public var modulePath: String { path.joined(separator: ".") }

    /// `'2.1' (Linear) in Sequential, input [2,3]: ...`: the path, type, root, input shapes and the error.
    public var description: String {
        let location = path.isEmpty ? moduleType : "'\(modulePath)' (\(moduleType)) in \(rootType)"
        return "\(location), input \(inputShapes): \(underlying)"
    }
}
