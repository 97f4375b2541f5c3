import Distributed
import Examples
import Modules
import Tensors
import Testing

/// `DistributedDataParallel` in a group of one (no MPI): buckets, hooks, noSync and bypasses.
@Suite("DistributedDataParallel")
struct DataParallelTests {
    static func mlp(seed: UInt64 = 7) -> MLP { Random.withSeed(seed) { MLP() } }
    static func input(seed: UInt64 = 8) -> (Tensor, Tensor) {
        var generator = RandomGenerator(seed: seed)
        let x = Tensor.randn([4, 784], using: &generator)
        return (x, Tensor(indices: [1, 2, 3, 4], shape: [4]))
    }

    static func step(_ model: Module<Tensor, Tensor>, _ batch: (Tensor, Tensor)) throws {
        try CrossEntropyLoss()(model(batch.0), batch.1).backward()
    }

    @Test func bucketsFollowReverseParameterOrderUnderTheCap() throws {
        let ddp = try DistributedDataParallel(Self.mlp(), group: ProcessGroup(single: .seconds(5)), bucketCapMB: 0.25)
        #expect(ddp.bucketParameters == [["fc3.bias", "fc3.weight", "fc2.bias"], ["fc2.weight"], ["fc1.bias"], ["fc1.weight"]])
        #expect(ddp.bucketBytes == [11304, 262_144, 1024, 802_816])
        let big = try DistributedDataParallel(Self.mlp(), group: ProcessGroup(single: .seconds(5)))
        // The first bucket is capped at 1 MiB, the rest at 25 MiB.
        #expect(big.bucketParameters == [["fc3.bias", "fc3.weight", "fc2.bias", "fc2.weight", "fc1.bias"], ["fc1.weight"]])
    }

    @Test func gradientsEqualThePlainModelsAndParametersAreNamedUnderModule() throws {
        let plain = Self.mlp()
        let wrapped = Self.mlp()
        let ddp = try DistributedDataParallel(wrapped, group: ProcessGroup(single: .seconds(5)))
        try Self.step(plain, Self.input())
        try Self.step(ddp, Self.input())
        for (p, q) in zip(plain.parameters(), wrapped.parameters()) { #expect(p.grad!.scalars == q.grad!.scalars) }
        #expect(ddp.namedParameters().first?.path == "module.fc1.weight")
        #expect(ddp.lastBucketTimings.count == 2 && ddp.bypasses.isEmpty)
    }

    @Test func aLeafGradientIsReadyBeforeBackwardReachesEarlierLayers() throws {
        let model = Self.mlp()
        var events: [String] = []
        model.fc3.weight.registerPostAccumulateGradHook { _ in
            events.append(model.fc1.weight.grad == nil ? "fc3 ready, fc1 pending" : "fc3 ready late")
            BackwardCallbacks.queue { events.append("end of backward") }
        }
        model.fc1.weight.registerPostAccumulateGradHook { _ in events.append("fc1 ready") }
        try Self.step(model, Self.input())
        #expect(events == ["fc3 ready, fc1 pending", "fc1 ready", "end of backward"])
    }

    @Test func aBypassIsReportedInItsStepAndNoSyncOrEvalAreNot() throws {
        let ddp = try DistributedDataParallel(Self.mlp(), group: ProcessGroup(single: .seconds(5)))
        var seen: [DDPBypass] = []
        ddp.onBypass = { seen.append($0) }
        try Self.step(ddp, Self.input())  // synchronised
        try ddp.noSync { try Self.step(ddp, Self.input()) }  // deliberate
        #expect(seen.isEmpty && ddp.unsyncedSteps == 1)
        try Self.step(ddp, Self.input())  // synchronised again
        _ = try noGrad { try ddp(Self.input().0) }  // inference: nothing to sync
        #expect(seen.isEmpty && ddp.unsyncedSteps == 0)
        try Self.step(ddp.module, Self.input())  // bypass through the inner wrapper
        let bytes = ddp.parameters().reduce(0) { $0 + $1.byteCount }
        #expect(
            seen == [
                DDPBypass(
                    backward: 4, unsyncedGradientBytes: bytes, unsyncedParameters: 6,
                    buffersNotBroadcast: 0, bufferBytesNotBroadcast: 0, rank: 0)
            ])
        let batch = Self.input()
        try CrossEntropyLoss()(ddp.module.forward(batch.0), batch.1).backward()  // forward called directly
        #expect(seen.count == 2 && seen[1].backward == 5 && ddp.bypasses == seen)
        #expect(
            seen[0].description.hasPrefix(
                "DDP bypass on rank 0, backward 4: the model ran without DistributedDataParallel's forward; 1077288 bytes of gradients (6 parameters) were not all-reduced"
            ))
    }

    @Test func noSyncAroundBackwardAloneStillSynchronises() throws {
        // PyTorch's pitfall: the forward decides; a noSync block around backward only changes nothing.
        let ddp = try DistributedDataParallel(Self.mlp(), group: ProcessGroup(single: .seconds(5)))
        ddp.onBypass = { _ in Issue.record("no bypass expected") }
        let batch = Self.input()
        let loss = try CrossEntropyLoss()(ddp(batch.0), batch.1)
        try ddp.noSync { try loss.backward() }
        #expect(ddp.lastBucketTimings.count == ddp.bucketBytes.count && ddp.unsyncedSteps == 0)
    }

    final class TwoHeads: Module<Tensor, Tensor> {
        let used = Linear(3, 2)
        let unused = Linear(3, 2)
        override func forward(_ x: Tensor) throws -> Tensor { try used(x) }
    }

    @Test func parametersWithoutGradientAreSentAsZerosWithoutHanging() throws {
        let model = Random.withSeed(3) { TwoHeads() }
        let ddp = try DistributedDataParallel(model, group: ProcessGroup(single: .seconds(5)), bucketCapMB: 0.00001)
        #expect(ddp.bucketBytes.count == 4)
        try ddp(Tensor([1, 2, 3], shape: [1, 3])).sum().backward()
        #expect(model.unused.weight.grad?.scalars == [Float](repeating: 0, count: 6))
        #expect(model.used.weight.grad?.scalars == [1, 2, 3, 1, 2, 3])
        #expect(ddp.lastBucketTimings.count == 4)
    }

    @Test func theSamplerGivesDisjointSeededShards() {
        let samplers = (0..<3).map { DistributedSampler(count: 10, rank: $0, size: 3, seed: 5) }
        let epoch0 = samplers.map { $0.indices(epoch: 0) }
        #expect(epoch0.allSatisfy { $0.count == 4 })
        // 12 slots for 10 examples: every example once, two repeated as padding.
        #expect(Set(epoch0.flatMap { $0 }) == Set(0..<10))
        #expect(epoch0 == samplers.map { $0.indices(epoch: 0) })
        #expect(epoch0 != samplers.map { $0.indices(epoch: 1) })
        let exact = (0..<2).map { DistributedSampler(count: 8, rank: $0, size: 2, seed: 1).indices(epoch: 3) }
        #expect(Set(exact[0]).isDisjoint(with: exact[1]) && exact[0].count + exact[1].count == 8)
        #expect(DistributedSampler(count: 8, rank: 1, size: 2).shard(of: Array(10..<18)) == [14, 15, 16, 17])
    }
}
