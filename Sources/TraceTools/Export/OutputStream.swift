import CZlib
import Foundation

/// A buffered file writer, gzip-compressed when the path ends in `.gz`.
package final class TraceOutputStream {
    private var buffer: [UInt8] = []
    private let file: UnsafeMutablePointer<FILE>?
    private let gz: gzFile?
    package let path: String
    package private(set) var bytesWritten: Int64 = 0

    package init(path: String) throws {
        self.path = path
        if path.hasSuffix(".gz") {
            guard let g = gzopen(path, "wb6") else { throw ExportError("cannot write \(path)") }
            gz = g
            file = nil
        } else {
            guard let f = fopen(path, "wb") else {
                throw ExportError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            file = f
            gz = nil
        }
        buffer.reserveCapacity(1 << 20)
    }

    package func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Writes `bytes` and empties them.
    func write(_ bytes: inout ByteBuffer) throws {
        try flush()
        let ok = bytes.bytes.withUnsafeBytes { raw -> Bool in
            if let gz { return gzwrite(gz, raw.baseAddress, UInt32(raw.count)) == Int32(raw.count) }
            return fwrite(raw.baseAddress, 1, raw.count, file) == raw.count
        }
        guard ok else { throw ExportError("writing \(path) failed (disk full?)") }
        bytesWritten += Int64(bytes.bytes.count)
        bytes.bytes.removeAll(keepingCapacity: true)
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        let ok = buffer.withUnsafeBytes { raw -> Bool in
            if let gz { return gzwrite(gz, raw.baseAddress, UInt32(raw.count)) == Int32(raw.count) }
            return fwrite(raw.baseAddress, 1, raw.count, file) == raw.count
        }
        guard ok else { throw ExportError("writing \(path) failed (disk full?)") }
        bytesWritten += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes; the file is complete only after this.
    package func close() throws {
        try flush()
        if let gz, gzclose(gz) != Z_OK { throw ExportError("closing \(path) failed") }
        if let file, fclose(file) != 0 { throw ExportError("closing \(path) failed (disk full?)") }
    }
}

package struct ExportError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
