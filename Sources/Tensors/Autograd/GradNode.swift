/// How a tensor was computed: the op, its inputs, and the op's backward rule
/// (one closure per op, micrograd style).
public final class GradNode {
    /// Op name (`linear`); backward spans show it as `LinearBackward`.
    public let op: String
    let inputs: [Tensor]
    /// Maps the gradient of the output (and the output itself) to gradients of the inputs.
    let backward: (_ grad: Tensor, _ output: Tensor) throws -> [Tensor?]
    /// Trace id of the module whose wrapper was innermost when the op ran (0 when untraced).
    public let scope: UInt32

    init(op: String, inputs: [Tensor], scope: UInt32,
         backward: @escaping (_ grad: Tensor, _ output: Tensor) throws -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.scope = scope
        self.backward = backward
    }
}
