/// An op rejected its inputs. The message names the op and every shape involved;
/// the module wrapper adds the module path when the error crosses it.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    /// The op that rejected its inputs (`"matmul"`).
    public let op: String
    /// The shapes of the op's inputs.
    public let shapes: [[Int]]
    /// What is wrong with them.
    public let reason: String

    /// An error of op `op` over inputs of `shapes`, explained by `reason`.
    public init(_ op: String, _ shapes: [[Int]], _ reason: String) {
        self.op = op
        self.shapes = shapes
        self.reason = reason
    }

    /// `op: reason (shapes [a,b], [c,d])`.
    public var description: String {
        "\(op): \(reason) (shapes \(shapes.map(Tensor.format).joined(separator: ", ")))"
    }
}
