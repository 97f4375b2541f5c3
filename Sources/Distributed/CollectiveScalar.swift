import CMPI

/// Element types the process group sends: float32 (gradients, parameters) and int32
/// (counts, checksums). `Int64` is used internally for timestamps.
public protocol CollectiveScalar: Numeric, Sendable {
    /// The MPI datatype handle.
    static var mpiType: MPI_Datatype { get }
    /// The name used in error messages and spans.
    static var typeName: String { get }
}

extension Float: CollectiveScalar {
    /// The MPI datatype handle of this type.
    public static var mpiType: MPI_Datatype { cmpi_float() }
    /// This type's name in errors and spans.
    public static var typeName: String { "float32" }
}

extension Int32: CollectiveScalar {
    /// The MPI datatype handle of this type.
    public static var mpiType: MPI_Datatype { cmpi_int32() }
    /// This type's name in errors and spans.
    public static var typeName: String { "int32" }
}

extension Int64: CollectiveScalar {
    /// The MPI datatype handle of this type.
    public static var mpiType: MPI_Datatype { cmpi_int64() }
    /// This type's name in errors and spans.
    public static var typeName: String { "int64" }
}

/// A reduction.
public enum ReduceOp: Sendable {
    case sum, max, min

    var mpiOp: MPI_Op {
        switch self {
        case .sum: cmpi_op_sum()
        case .max: cmpi_op_max()
        case .min: cmpi_op_min()
        }
    }
}
