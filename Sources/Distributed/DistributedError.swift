/// A collective that failed: which one, on which rank, and why. MPI's own error codes
/// (with `MPI_ERRORS_RETURN` set) and timeouts waiting for a peer both end up here.
public struct DistributedError: Error, CustomStringConvertible, Sendable {
    /// The collective and what it carried, e.g. `all_reduce (bucket 1, 262144 float32)`.
    public let collective: String
    /// This process's rank and the world size.
    public let rank: Int
    /// The world size.
    public let size: Int
    /// MPI's error string, or why the wait gave up.
    public let message: String

    /// An error of `collective` on `rank` of `size`.
    public init(collective: String, rank: Int, size: Int, message: String) {
        self.collective = collective
        self.rank = rank
        self.size = size
        self.message = message
    }

    /// One line for logs and errors.
    public var description: String { "\(collective) on rank \(rank) of \(size): \(message)" }
}
