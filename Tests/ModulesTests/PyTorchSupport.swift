import Foundation
import Modules
import Tensors
import Testing

/// Reference values computed by PyTorch (`Fixtures/make_fixtures.py`), committed as safetensors.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func load(_ name: String) throws -> SafeTensorsFile {
        try SafeTensors.read(directory.appendingPathComponent("\(name).safetensors"))
    }
}

/// Expects `actual` to equal PyTorch's `expected` within relative 1e-4 / absolute 1e-5 per element.
func expectClose(
    _ actual: Tensor?, _ expected: Tensor, _ what: String, rtol: Float = 1e-4, atol: Float = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let actual else {
        Issue.record("\(what): missing (expected \(Tensor.format(expected.shape)))", sourceLocation: sourceLocation)
        return
    }
    guard actual.shape == expected.shape else {
        Issue.record(
            "\(what): shape \(Tensor.format(actual.shape)), PyTorch \(Tensor.format(expected.shape))", sourceLocation: sourceLocation)
        return
    }
    let (a, e) = (actual.scalars, expected.scalars)
    let bad = (0..<a.count).filter { !(abs(a[$0] - e[$0]) <= atol + rtol * abs(e[$0])) }
    #expect(
        bad.isEmpty,
        "\(what): \(bad.count) of \(a.count) differ, first at \(bad.first ?? 0): \(bad.first.map { a[$0] } ?? 0) vs PyTorch \(bad.first.map { e[$0] } ?? 0)",
        sourceLocation: sourceLocation)
}

/// A fixture tensor as a fresh leaf (a float one requires gradients).
func leaf(_ file: SafeTensorsFile, _ name: String) throws -> Tensor {
    let t = try file.tensor(name).copy()
    if t.dtype == .float32 { t.requiresGrad = true }
    return t
}

/// Runs one layer case of `layers.safetensors`: loads PyTorch's state dict (whose keys must be
/// exactly ours), calls the module, and compares the output, the gradients of
/// `sum(output * probe)` for the inputs and parameters, and the state afterwards.
func checkLayer<M: AnyModule>(
    _ file: SafeTensorsFile, _ name: String, _ module: M, train: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ call: (M, [Tensor]) throws -> Tensor
) throws {
    module.train(train)
    for p in module.parameters() { p.grad = nil }
    let state = file.subset("\(name).state.")
    #expect(Set(module.stateDict().map(\.name)) == Set(state.names), "\(name): state-dict keys", sourceLocation: sourceLocation)
    try module.load(state)
    var inputs: [Tensor] = []
    while file.tensors["\(name).input\(inputs.count)"] != nil { inputs.append(try leaf(file, "\(name).input\(inputs.count)")) }
    let output = try call(module, inputs)
    expectClose(output, try file.tensor("\(name).output"), "\(name) output", sourceLocation: sourceLocation)
    try (output * file.tensor("\(name).probe")).sum().backward()
    for (i, x) in inputs.enumerated() {
        if let g = file.tensors["\(name).grad.input\(i)"] {
            expectClose(x.grad, g, "\(name) grad input\(i)", sourceLocation: sourceLocation)
        }
    }
    for (key, tensor) in module.stateDict() {
        if let g = file.tensors["\(name).grad.\(key)"] {
            expectClose(tensor.grad, g, "\(name) grad \(key)", sourceLocation: sourceLocation)
        }
        expectClose(tensor, try file.tensor("\(name).after.\(key)"), "\(name) \(key) after", sourceLocation: sourceLocation)
    }
}
