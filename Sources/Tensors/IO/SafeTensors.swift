import Foundation

/// Element types of a safetensors file that Tracewell reads (F16, BF16 and I64 are converted).
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case i64 = "I64"

    var elementSize: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .i64: 8
        }
    }
}

/// A file or tensor that cannot be read, or does not match what was asked for. The message is
/// one line naming the file, the key and the shapes.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The one-line message.
    public let description: String
    /// An error with the one-line message `description`.
    public init(_ description: String) { self.description = description }
}

/// The tensors of one safetensors file, by name: `F32`, `F16` and `BF16` become float32 tensors,
/// `I32` and `I64` int32 tensors (an I64 value outside Int32's range is an error).
public struct SafeTensorsFile {
    /// Tensors by name.
    public let tensors: [String: Tensor]
    /// The dtype each tensor had in the file.
    public let dtypes: [String: SafeTensorsDType]
    /// The header's `__metadata__` (string to string).
    public let metadata: [String: String]
    /// Where it was read from (for messages).
    public let path: String

    /// Collects tensors under one name (`init` by the reader; `subset` by prefix).
    public init(
        tensors: [String: Tensor], dtypes: [String: SafeTensorsDType] = [:], metadata: [String: String] = [:],
        path: String = ""
    ) {
        (self.tensors, self.metadata, self.path) = (tensors, metadata, path)
        self.dtypes = dtypes.isEmpty ? tensors.mapValues { $0.dtype == .float32 ? .f32 : .i32 } : dtypes
    }

    /// The tensors whose names start with `prefix`, with the prefix removed
    /// (`file.subset("encoder.")` holds `layer.weight` for `encoder.layer.weight`).
    public func subset(_ prefix: String) -> SafeTensorsFile {
        var tensors: [String: Tensor] = [:]
        var dtypes: [String: SafeTensorsDType] = [:]
        for (name, t) in self.tensors where name.hasPrefix(prefix) {
            let short = String(name.dropFirst(prefix.count))
            tensors[short] = t
            dtypes[short] = self.dtypes[name]
        }
        return SafeTensorsFile(tensors: tensors, dtypes: dtypes, metadata: metadata, path: "\(path)[\(prefix)*]")
    }

    /// Names, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// The tensor named `name`; throws one line naming the key when it is missing or, when
    /// `shape` is given, when its shape differs (naming both shapes).
    public func tensor(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        guard let t = tensors[name] else { throw SafeTensorsError("\(path): no tensor named '\(name)'") }
        if let shape, t.shape != shape {
            throw SafeTensorsError("\(path): '\(name)' has shape \(Tensor.format(t.shape)), expected \(Tensor.format(shape))")
        }
        return t
    }
}

/// Reading and writing the safetensors layout: 8 bytes of little-endian header length, a JSON
/// header mapping names to dtype, shape and byte offsets, then the raw little-endian data.
/// Python's `safetensors.torch.load_file`/`save_file` read and write the same files.
public enum SafeTensors {
    /// Writes `tensors` to `url`. Float tensors are written as F32; int32 tensors as `indexDType`
    /// (`.i32` or `.i64`; PyTorch's index tensors and `num_batches_tracked` are I64).
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], to url: URL, metadata: [String: String] = [:],
        indexDType: SafeTensorsDType = .i32
    ) throws {
        precondition(indexDType == .i32 || indexDType == .i64, "SafeTensors.write: indexDType must be .i32 or .i64")
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for (name, tensor) in tensors {
            guard header[name] == nil, name != "__metadata__" else {
                throw SafeTensorsError("\(url.path): tensor name '\(name)' appears twice")
            }
            let start = body.count
            let dtype: SafeTensorsDType
            if tensor.dtype == .float32 {
                dtype = .f32
                append(tensor.scalars, to: &body)
            } else if indexDType == .i64 {
                dtype = .i64
                append(tensor.indexScalars.map { Int64($0).littleEndian }, to: &body)
            } else {
                dtype = .i32
                append(tensor.indexScalars.map { $0.littleEndian }, to: &body)
            }
            header[name] = ["dtype": dtype.rawValue, "shape": tensor.shape, "data_offsets": [start, body.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var length = UInt64(json.count).littleEndian
        var file = Data(bytes: &length, count: 8)
        file.append(json)
        file.append(body)
        try file.write(to: url, options: .atomic)
    }

    /// Reads every tensor of the file at `url`, checking the header against the file's size.
    public static func read(_ url: URL) throws -> SafeTensorsFile {
        let path = url.path
        let file: Data
        do { file = try Data(contentsOf: url) } catch { throw SafeTensorsError("\(path): cannot read the file") }
        return try parse(file, path: path)
    }

    /// Parses the bytes of a safetensors file (`path` names it in errors).
    public static func parse(_ file: Data, path: String) throws -> SafeTensorsFile {
        func bad(_ why: String) -> SafeTensorsError { SafeTensorsError("\(path): not a safetensors file (\(why))") }
        guard file.count >= 8 else { throw bad("\(file.count) bytes") }
        let length = file.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length >= 2, length <= UInt64(file.count - 8) else { throw bad("header length \(length)") }
        let headerEnd = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: file.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        let bodySize = file.count - headerEnd
        var tensors: [String: Tensor] = [:]
        var dtypes: [String: SafeTensorsDType] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let code = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw bad("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = SafeTensorsDType(rawValue: code) else {
                throw SafeTensorsError("\(path): '\(name)' has dtype \(code); supported: F32, F16, BF16, I32, I64")
            }
            var count = 1
            for d in shape {
                guard d >= 0, !count.multipliedReportingOverflow(by: d).overflow else { throw bad("'\(name)' has shape \(shape)") }
                count *= d
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bodySize,
                offsets[1] - offsets[0] == count * dtype.elementSize
            else {
                throw bad("'\(name)' \(code) \(Tensor.format(shape)) has data_offsets \(offsets) in a body of \(bodySize) bytes")
            }
            let tensor = try file.withUnsafeBytes { raw in
                try decode(raw.baseAddress! + headerEnd + offsets[0], count: count, shape: shape, dtype: dtype, name: name, path: path)
            }
            tensors[name] = tensor
            dtypes[name] = dtype
        }
        return SafeTensorsFile(tensors: tensors, dtypes: dtypes, metadata: metadata, path: path)
    }

    private static func decode(
        _ src: UnsafeRawPointer, count: Int, shape: [Int], dtype: SafeTensorsDType,
        name: String, path: String
    ) throws -> Tensor {
        switch dtype {
        case .f32:
            return Tensor(
                (0..<count).map { Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) },
                shape: shape)
        case .f16:
            return Tensor(
                (0..<count).map { halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) },
                shape: shape)
        case .bf16:
            return Tensor(
                (0..<count).map {
                    Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16)
                }, shape: shape)
        case .i32:
            return Tensor(
                indices: (0..<count).map { Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }, shape: shape)
        case .i64:
            var values = [Int32](repeating: 0, count: count)
            for i in 0..<count {
                let v = Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                guard let narrow = Int32(exactly: v) else {
                    throw SafeTensorsError("\(path): '\(name)' holds the I64 value \(v), outside the int32 range of index tensors")
                }
                values[i] = narrow
            }
            return Tensor(indices: values, shape: shape)
        }
    }

    /// IEEE half to float, including subnormals, infinities and NaN.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = UInt32(h >> 10) & 0x1f
        let mantissa = UInt32(h) & 0x3ff
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    private static func append<T>(_ values: [T], to data: inout Data) {
        values.withUnsafeBytes { data.append(contentsOf: $0) }
    }
}
