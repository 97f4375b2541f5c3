import Modules
import Tensors
import Testing

func random(_ shape: [Int], seed: UInt64 = 1, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, in: range, using: &g)
}

/// Expects autograd to agree with finite differences with respect to the inputs and the
/// module's parameters.
func gradCheck<M: AnyModule>(
    _ module: M, _ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
    _ f: (M, [Tensor]) throws -> Tensor
) throws {
    let params = module.parameters()
    let all = inputs + params
    let mismatches = try gradientCheck(all) { xs in try f(module, Array(xs.prefix(inputs.count))) }
    #expect(mismatches.isEmpty, "\(mismatches.prefix(5))", sourceLocation: sourceLocation)
}

/// A two-level model used by several tests.
final class TwoLayer: Module<Tensor, Tensor> {
    let fc1 = Linear(4, 8)
    let act = ReLU()
    let fc2 = Linear(8, 3)
    override func forward(_ x: Tensor) throws -> Tensor { try fc2(act(fc1(x))) }
}
