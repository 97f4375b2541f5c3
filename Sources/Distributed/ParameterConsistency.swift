import Modules
import Tensors

/// Where ranks' parameters first differ, found by the cross-rank consistency check.
public struct ParameterMismatch: Sendable, CustomStringConvertible {
    /// The step checked, the first module (in parameter order) whose parameters differ.
    public let step: Int
    /// The module path (relative to the wrapped model).
    public let module: String
    /// Ranks whose parameters differ from rank 0's there.
    public let ranks: [Int]
    /// The most likely reason, from what the wrapper saw.
    public let likelyCause: String

    /// One line for logs and errors.
    public var description: String {
        "parameters differ across ranks at step \(step) in module \(module.isEmpty ? "<root>" : module) "
            + "(rank\(ranks.count > 1 ? "s" : "") \(ranks.map(String.init).joined(separator: ", ")) vs rank 0); likely cause: \(likelyCause)"
    }
}

/// Cheap cross-rank check that replicas are identical: one 64-bit hash of the parameter
/// bytes per module, gathered from every rank (8 bytes per module per rank).
public enum ParameterConsistency {
    /// Compares `ddp`'s parameters across its group; nil when every rank holds the same bits.
    public static func check(_ ddp: DistributedDataParallel, step: Int) throws -> ParameterMismatch? {
        let named = ddp.module.namedParameters()
        var modules: [String] = []
        var hashes: [UInt64] = []
        for (path, tensor) in named {
            let module = path.split(separator: ".").dropLast().joined(separator: ".")
            if modules.last != module {
                modules.append(module)
                hashes.append(0xcbf2_9ce4_8422_2325)
            }
            hashes[hashes.count - 1] = fnv1a(tensor.contiguous(), seed: hashes[hashes.count - 1])
        }
        let mine = hashes.flatMap { [Int32(truncatingIfNeeded: $0), Int32(truncatingIfNeeded: $0 >> 32)] }
        let all = try ddp.group.allGather(mine, label: "parameter checksums")
        let per = mine.count
        for (m, module) in modules.enumerated() {
            let differing = (1..<ddp.group.size).filter { r in
                all[r * per + 2 * m] != all[2 * m] || all[r * per + 2 * m + 1] != all[2 * m + 1]
            }
            if !differing.isEmpty {
                return ParameterMismatch(step: step, module: module, ranks: differing, likelyCause: cause(ddp))
            }
        }
        return nil
    }

    static func cause(_ ddp: DistributedDataParallel) -> String {
        if let bypass = ddp.bypasses.first {
            return "the DDP wrapper was bypassed (backward \(bypass.backward): gradients not all-reduced)"
        }
        if ddp.unsyncedSteps > 0 {
            return "noSync steps whose accumulated gradients were never synchronised by a later step"
        }
        return "a rank-dependent update (different data, optimizer state or random numbers on each rank)"
    }

    static func fnv1a(_ tensor: Tensor, seed: UInt64) -> UInt64 {
        var hash = seed
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(tensor.floats), count: tensor.byteCount)
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
