import Tensors
import Testing

/// Expects autograd to agree with finite differences for `f`.
func gradCheck(
    _ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor]) throws -> Tensor
) throws {
    let mismatches = try gradientCheck(inputs, f)
    #expect(mismatches.isEmpty, "\(mismatches.prefix(5))", sourceLocation: sourceLocation)
}

func random(_ shape: [Int], seed: UInt64 = 1, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, in: range, using: &g)
}
