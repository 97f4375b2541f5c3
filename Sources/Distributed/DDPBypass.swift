import Foundation

/// A backward pass whose gradients were not all-reduced although no `noSync` block asked
/// for that: the model ran without `DistributedDataParallel`'s forward around it
/// (`ddp.module(x)`, or `forward` called directly). PyTorch's reducer skips such a step
/// silently and the ranks drift apart; here it is reported in the step it happens.
public struct DDPBypass: Sendable, Equatable, CustomStringConvertible {
    /// The backward pass (1-based) in which the gradients arrived unsynchronised.
    public let backward: Int
    /// Bytes of gradient that were not all-reduced, and how many parameters they belong to.
    public let unsyncedGradientBytes: Int
    /// How many parameters those gradients belong to.
    public let unsyncedParameters: Int
    /// Buffers (and their bytes) that were not broadcast from rank 0 before that forward.
    public let buffersNotBroadcast: Int
    /// Bytes of those buffers.
    public let bufferBytesNotBroadcast: Int
    /// The rank it happened on.
    public let rank: Int

    /// A finding as the wrapper reports it.
    public init(
        backward: Int, unsyncedGradientBytes: Int, unsyncedParameters: Int, buffersNotBroadcast: Int,
        bufferBytesNotBroadcast: Int, rank: Int
    ) {
        self.backward = backward
        self.unsyncedGradientBytes = unsyncedGradientBytes
        self.unsyncedParameters = unsyncedParameters
        self.buffersNotBroadcast = buffersNotBroadcast
        self.bufferBytesNotBroadcast = bufferBytesNotBroadcast
        self.rank = rank
    }

    /// One line for logs and errors.
    public var description: String {
        var text =
            "DDP bypass on rank \(rank), backward \(backward): the model ran without DistributedDataParallel's forward; "
            + "\(unsyncedGradientBytes) bytes of gradients (\(unsyncedParameters) parameters) were not all-reduced"
        if buffersNotBroadcast > 0 {
            text += ", \(buffersNotBroadcast) buffers (\(bufferBytesNotBroadcast) bytes) not broadcast"
        }
        return text + " (call ddp(x), not ddp.module(x); use noSync { } to skip synchronisation on purpose)"
    }

    /// The finding's detail in the trace's `bypasses` table (its first occurrence).
    public var traceDetail: String {
        "\(unsyncedGradientBytes) gradient bytes (\(unsyncedParameters) parameters) not all-reduced, "
            + "\(bufferBytesNotBroadcast) buffer bytes (\(buffersNotBroadcast) buffers) not broadcast, outside noSync"
    }

    /// Prints the finding as one line on stderr.
    public static func warn(_ bypass: DDPBypass) {
        FileHandle.standardError.write(("warning: " + bypass.description + "\n").data(using: .utf8)!)
    }
}
