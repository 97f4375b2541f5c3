/// An op rejected its inputs. The message names the op and every shape involved;
/// the module wrapper adds the module path when the error crosses it.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let shapes: [[Int]]
    public let reason: String

    public init(_ op: String, _ shapes: [[Int]], _ reason: String) {
        self.op = op
        self.shapes = shapes
        self.reason = reason
    }

    public var description: String {
        "\(op): \(reason) (shapes \(shapes.map(Tensor.format).joined(separator: ", ")))"
    }
}
