import CBLAS
import Foundation
import Synchronization

/// Matrix products through OpenBLAS's single-threaded SGEMM.
enum Gemm {
    /// A 2-D operand as BLAS sees it: a pointer, whether it is transposed, and its leading dimension.
    struct Operand {
        var pointer: UnsafePointer<Float>
        var transposed: Bool
        var leading: Int
    }

    /// Describes the last two axes of `t` (which must be row- or column-major in them)
    /// starting at `elementOffset`.
    static func operand(_ t: Tensor, elementOffset: Int = 0) -> Operand {
        let r = t.rank
        let rows = t.shape[r - 2]
        let cols = t.shape[r - 1]
        let sr = t.strides[r - 2]
        let sc = t.strides[r - 1]
        let p = UnsafePointer(t.floats + elementOffset)
        if sc == 1 && (sr >= max(cols, 1) || rows <= 1) { return Operand(pointer: p, transposed: false, leading: max(sr, max(cols, 1))) }
        return Operand(pointer: p, transposed: true, leading: max(sc, max(rows, 1)))
    }

    /// True when the last two axes can be handed to BLAS without a copy.
    static func isBLASCompatible(_ t: Tensor) -> Bool {
        let r = t.rank
        let rows = t.shape[r - 2]
        let cols = t.shape[r - 1]
        let sr = t.strides[r - 2]
        let sc = t.strides[r - 1]
        return (sc == 1 && (sr >= cols || rows <= 1)) || (sr == 1 && (sc >= rows || cols <= 1))
    }

    /// `c = alpha * a · b + beta * c` with `a: m×k`, `b: k×n`, `c: m×n` row-major (leading dim n).
    static func multiply(
        _ a: Operand, _ b: Operand, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if beta == 0 { c.update(repeating: 0, count: m * n) }
            return
        }
        lock.withLock { _ in
            cblas_sgemm(
                CblasRowMajor,
                a.transposed ? CblasTrans : CblasNoTrans,
                b.transposed ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a.pointer, Int32(a.leading), b.pointer, Int32(b.leading), beta, c, Int32(n))
        }
    }

    /// One SGEMM at a time. Debian's serial OpenBLAS is built without `USE_LOCKING`, so
    /// concurrent calls can share a packing buffer and return wrong products (measured here:
    /// 3% of 128×160·160×64 products wrong with 8 threads). Uncontended, the lock costs
    /// ~20 ns against microseconds of SGEMM.
    private static let lock = Mutex(())

    /// Configures OpenBLAS once: one thread (as the benchmarks assume), and a kernel for
    /// this CPU. OpenBLAS 0.3.21 does not recognize recent Xeons and falls back to its
    /// SSE3 "Prescott" kernels, 3x slower here; then we pick the newest kernel family the
    /// CPU's flags support. `OPENBLAS_CORETYPE` set by the user always wins.
    static let singleThreaded: Void = {
        openblas_set_num_threads(1)
        guard getenv("OPENBLAS_CORETYPE") == nil, let name = openblas_get_corename(),
            String(cString: name).lowercased() == "prescott", let core = bestCoreType()
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        gotoblas_dynamic_quit()
        gotoblas_dynamic_init()
        unsetenv("OPENBLAS_CORETYPE")
    }()

    /// The OpenBLAS core type matching this CPU's flags, if it has AVX2 at least.
    static func bestCoreType() -> String? {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512_bf16"]) { return "Cooperlake" }
        if flags.contains("avx512f") { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The OpenBLAS kernel family in use.
    static var coreName: String {
        _ = singleThreaded
        return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }
}
