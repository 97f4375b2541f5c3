import Foundation
import Modules
import Tensors
import Testing

/// The Swift twin of `Net` in `Fixtures/make_fixtures.py`.
final class TorchNet: Module<Tensor, Tensor> {
    let conv = Conv2d(1, 2, kernelSize: 3, padding: 1)
    let bn = BatchNorm2d(2)
    let fc = Linear(2 * 4 * 4, 8)
    let norm = LayerNorm(8)
    let attn = MultiheadSelfAttention(dimension: 8, heads: 2)
    let head = Sequential(Linear(8, 8), GELU(), Linear(8, 3))

    override func forward(_ x: Tensor) throws -> Tensor {
        let h = try bn(conv(x)).relu()
        let sequence = try norm(fc(h.flattened(from: 1)).reshaped([1, x.shape[0], 8]))
        return try head(attn(AttentionInput(sequence)))
    }
}

@Suite("State dicts PyTorch loads as they are")
struct StateDictCompatibilityTests {
    func temporaryFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID()).safetensors")
    }

    @Test func loadsAFileSavedByPyTorch() throws {
        let net = TorchNet()
        try net.load(from: Fixtures.directory.appendingPathComponent("net_state.safetensors"))
        net.eval()
        let io = try Fixtures.load("net_io")
        expectClose(try net(io.tensor("input")), try io.tensor("output"), "TorchNet output with PyTorch's weights")
        #expect(net.bn.numBatchesTracked?.item == 1)
    }

    @Test func savesWhatPyTorchSaves() throws {
        let torch = try SafeTensors.read(Fixtures.directory.appendingPathComponent("net_state.safetensors"))
        let net = TorchNet()
        try net.load(torch)
        let url = temporaryFile()
        defer { try? FileManager.default.removeItem(at: url) }
        try net.save(to: url)
        let ours = try SafeTensors.read(url)
        #expect(ours.names == torch.names)
        #expect(ours.dtypes == torch.dtypes, "F32 everywhere, I64 for num_batches_tracked")
        for name in torch.names {
            #expect(ours.tensors[name]!.shape == torch.tensors[name]!.shape, "\(name)")
            #expect(ours.tensors[name]!.scalars == torch.tensors[name]!.scalars, "\(name)")
        }
        // For a manual check with PyTorch: `make_fixtures.py --check-swift DIR/net.safetensors`.
        if let dir = ProcessInfo.processInfo.environment["TRACEWELL_EXPORT_DIR"] {
            try? FileManager.default.removeItem(atPath: dir + "/net.safetensors")
            try FileManager.default.copyItem(at: url, to: URL(fileURLWithPath: dir + "/net.safetensors"))
        }
    }

    @Test func mismatchesAreOneLineNamingTheKeyAndShapes() throws {
        let torch = try SafeTensors.read(Fixtures.directory.appendingPathComponent("net_state.safetensors"))
        let wrongShape = Sequential(Linear(8, 4))
        var file = SafeTensorsFile(tensors: ["0.weight": .zeros([4, 9]), "0.bias": .zeros([4])], path: "x.safetensors")
        #expect(throws: StateError.self) { try wrongShape.load(file) }
        do { try wrongShape.load(file) } catch {
            #expect("\(error)" == "x.safetensors: '0.weight' is F32 [4,9], expected float [4,8]")
        }
        file = SafeTensorsFile(tensors: ["0.weight": .zeros([4, 8])], path: "x.safetensors")
        do { try wrongShape.load(file) } catch {
            #expect("\(error)" == "x.safetensors: no tensor named '0.bias'")
        }
        file = SafeTensorsFile(
            tensors: ["0.weight": Tensor(indices: Array(repeating: 0, count: 32), shape: [4, 8]), "0.bias": .zeros([4])],
            dtypes: ["0.weight": .i64, "0.bias": .f32], path: "x.safetensors")
        do { try wrongShape.load(file) } catch {
            #expect("\(error)" == "x.safetensors: '0.weight' is I64 [4,8], expected float [4,8]")
        }
        file = SafeTensorsFile(
            tensors: ["0.weight": .zeros([4, 8]), "0.bias": .zeros([4]), "1.weight": .zeros([2])], path: "x.safetensors")
        do { try wrongShape.load(file) } catch {
            #expect(
                "\(error)"
                    == "x.safetensors: unexpected tensor '1.weight' (this model has no such key; load with strict: false to ignore it)")
        }
        try wrongShape.load(file, strict: false)
        // Nothing is changed by a load that fails.
        let net = TorchNet()
        let before = net.fc.weight.scalars
        var tensors = torch.tensors
        tensors["norm.weight"] = .zeros([9])
        #expect(throws: StateError.self) { try net.load(SafeTensorsFile(tensors: tensors)) }
        #expect(net.fc.weight.scalars == before)
    }

    @Test func readsEveryDTypeAndRejectsWhatDoesNotFit() throws {
        let file = try Fixtures.load("dtypes")
        #expect(file.dtypes["f16"] == .f16 && file.dtypes["bf16"] == .bf16 && file.dtypes["i64"] == .i64)
        #expect(try file.tensor("f16").scalars == file.tensor("f16_as_f32").scalars)
        #expect(try file.tensor("bf16").scalars == file.tensor("bf16_as_f32").scalars)
        #expect(try file.tensor("i64").indexScalars == [0, -7, 2_147_483_647])
        #expect(try file.tensor("i32").indexScalars == [5, -2])
        #expect(throws: SafeTensorsError("x: 'f32' has shape [2,4], expected [4,2]")) {
            try SafeTensorsFile(tensors: file.tensors, path: "x").tensor("f32", shape: [4, 2])
        }
        #expect(throws: SafeTensorsError("x: no tensor named 'nope'")) { try SafeTensorsFile(tensors: [:], path: "x").tensor("nope") }
    }

    @Test func rejectsCorruptFilesWithOneLine() throws {
        let url = temporaryFile()
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write([("a", Tensor([1, 2, 3]))], to: url)
        let good = try Data(contentsOf: url)
        #expect(try SafeTensors.parse(good, path: "f").tensor("a").scalars == [1, 2, 3])
        let cases: [(Data, String)] = [
            (good.prefix(5), "f: not a safetensors file (5 bytes)"),
            (good.dropLast(4), "f: not a safetensors file ('a' F32 [3] has data_offsets [0, 12] in a body of 8 bytes)"),
            (Data([255, 255, 255, 255, 0, 0, 0, 0]) + good.dropFirst(8), "f: not a safetensors file (header length 4294967295)"),
        ]
        for (data, message) in cases {
            #expect(throws: SafeTensorsError(message)) { try SafeTensors.parse(data, path: "f") }
        }
        try SafeTensors.write([("ids", Tensor(indices: [1], shape: [1]))], to: url, indexDType: .i64)
        var tooBig = try Data(contentsOf: url)
        tooBig.replaceSubrange(tooBig.count - 8..<tooBig.count, with: [0, 0, 0, 0, 0, 1, 0, 0])
        #expect(throws: SafeTensorsError("f: 'ids' holds the I64 value 1099511627776, outside the int32 range of index tensors")) {
            try SafeTensors.parse(tooBig, path: "f")
        }
    }

    @Test func roundTripsArbitraryTensors() throws {
        let url = temporaryFile()
        defer { try? FileManager.default.removeItem(at: url) }
        let tensors: [(name: String, tensor: Tensor)] = [
            ("x", Tensor([1, -2, 3.5, 0], shape: [2, 2])), ("ids", Tensor(indices: [4, -1], shape: [2])),
            ("scalar", .scalar(7)),
        ]
        for dtype in [SafeTensorsDType.i32, .i64] {
            try SafeTensors.write(tensors, to: url, metadata: ["note": "hi"], indexDType: dtype)
            let back = try SafeTensors.read(url)
            #expect(back.metadata == ["note": "hi"])
            #expect(back.dtypes == ["x": .f32, "ids": dtype, "scalar": .f32])
            #expect(try back.tensor("x", shape: [2, 2]).scalars == [1, -2, 3.5, 0])
            #expect(try back.tensor("ids").indexScalars == [4, -1])
            #expect(try back.tensor("scalar", shape: []).item == 7)
        }
    }
}
