import Foundation
import Tensors

/// Saving and loading parameters and buffers in the safetensors layout: 8 bytes of
/// little-endian header length, a JSON header mapping names to dtype, shape and byte
/// offsets, then the raw little-endian data. Other tools (Python's safetensors) read it.
extension AnyModule {
    /// Parameters and buffers by dotted name (PyTorch's `state_dict`).
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        (namedParameters() + namedBuffers()).map { ($0.path, $0.tensor) }
    }

    /// Writes the state to `url`.
    public func save(to url: URL) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt", "producer": "tracewell"]]
        var data = Data()
        for (name, tensor) in stateDict() {
            let start = data.count
            let values = tensor.scalars
            values.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [start, data.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var length = UInt64(json.count).littleEndian
        var file = Data(bytes: &length, count: 8)
        file.append(json)
        file.append(data)
        try file.write(to: url, options: .atomic)
    }

    /// Reads state written by `save(to:)` (or any F32 safetensors file with matching names and shapes).
    public func load(from url: URL) throws {
        let file = try Data(contentsOf: url)
        guard file.count >= 8 else { throw StateError("\(url.path): too short to be a safetensors file") }
        let length = Int(file.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        guard length > 0, 8 + length <= file.count,
              let header = try JSONSerialization.jsonObject(with: file.subdata(in: 8..<8 + length)) as? [String: Any] else {
            throw StateError("\(url.path): not a safetensors file (bad header)")
        }
        let body = file.subdata(in: 8 + length..<file.count)
        for (name, tensor) in stateDict() {
            guard let entry = header[name] as? [String: Any] else { throw StateError("\(url.path): no tensor named \(name)") }
            let shape = entry["shape"] as? [Int] ?? []
            guard entry["dtype"] as? String == "F32", shape == tensor.shape,
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                  offsets[1] - offsets[0] == tensor.count * 4, offsets[1] <= body.count else {
                throw StateError("\(url.path): \(name) is \(entry["dtype"] ?? "?") \(Tensor.format(shape)), expected F32 \(Tensor.format(tensor.shape))")
            }
            let target = tensor.contiguous()
            precondition(target === tensor, "state tensors are contiguous")
            body.withUnsafeBytes { raw in
                let src = raw.baseAddress!.advanced(by: offsets[0])
                UnsafeMutableRawPointer(tensor.floats).copyMemory(from: src, byteCount: tensor.count * 4)
            }
        }
    }
}

/// A state file that cannot be loaded into this model.
public struct StateError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
