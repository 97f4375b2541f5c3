import Foundation
import Synchronization
import Testing

@testable import Tensors

@Suite("Tensor behaviour")
struct TensorTests {
    @Test func broadcastValues() throws {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor([10, 20, 30])
        #expect(try (a + b).scalars == [11, 22, 33, 14, 25, 36])
        #expect(try (a * Tensor([2, 3], shape: [2, 1])).scalars == [2, 4, 6, 12, 15, 18])
    }

    @Test func shapeErrorsNameShapes() {
        let error = #expect(throws: TensorError.self) {
            try Tensor.zeros([2, 3]).matmul(.zeros([4, 5]))
        }
        #expect(error?.description == "matmul: inner dimensions differ (shapes [2,3], [4,5])")
        #expect(throws: TensorError.self) { try Tensor.zeros([2, 3]) + .zeros([4]) }
        #expect(throws: TensorError.self) { try Tensor.zeros([6]).reshaped([4, -1]) }
    }

    @Test func maxOverAxes() throws {
        let x = Tensor([1, 9, 3, 4, 5, 6, 7, 8], shape: [2, 2, 2])
        #expect(try x.amax(axes: [0, 2]).scalars == [9, 8])
        #expect(try x.amax(axes: [1], keepDims: true).shape == [2, 1, 2])
        #expect(throws: TensorError.self) { try x.amax(axes: [3]) }
    }

    @Test func matmulValues() throws {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor([1, 0, 0, 1, 1, 1], shape: [3, 2])
        #expect(try a.matmul(b).scalars == [4, 5, 10, 11])
        #expect(try a.transposed().matmul(a).shape == [3, 3])
        #expect(try a.transposed().matmul(a).scalars == [17, 22, 27, 22, 29, 36, 27, 36, 45])
    }

    @Test func viewsShareStorage() throws {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let t = try a.transposed()
        #expect(t.storage === a.storage)
        #expect(t.scalars == [1, 4, 2, 5, 3, 6])
        #expect(try a.slice(axis: 1, 1..<3).scalars == [2, 3, 5, 6])
        #expect(try Tensor.concat([a, a], axis: 0).shape == [4, 3])
    }

    @Test func softmaxIsStable() throws {
        let x = Tensor([1000, 1001, 1002], shape: [1, 3])
        let p = try x.softmax().scalars
        let total: Float = p.reduce(0, +)
        let deviation: Float = abs(total - 1)
        #expect(deviation < 1e-6)
        #expect(p.allSatisfy { $0.isFinite })
        let l = try x.logSoftmax().scalars
        let expected: Float = -0.407_605_96
        let diff: Float = abs(l[2] - expected)
        #expect(diff < 1e-4)
    }

    @Test func gradientsAccumulateUntilCleared() throws {
        let w = Tensor([2, 3]).asParameter()
        try (w * w).sum().backward()
        try (w * w).sum().backward()
        #expect(w.grad?.scalars == [8, 12])
        w.grad = nil
        try w.sum().backward()
        #expect(w.grad?.scalars == [1, 1])
    }

    @Test func noGradAndDetach() throws {
        let w = Tensor([1, 2]).asParameter()
        let y = noGrad { w * 2 }
        #expect(!y.requiresGrad && y.gradNode == nil)
        let d = (w * 2).detach()
        #expect(!d.requiresGrad)
        #expect(throws: TensorError.self) { try d.sum().backward() }
    }

    @Test func storageIsReturnedWhenTheGraphGoes() throws {
        // Per-thread counters: other tests allocate concurrently on other threads.
        let baseline = MemoryStats.threadLiveBytes
        do {
            let w = Tensor.ones([64, 64]).asParameter()
            let x = Tensor.ones([8, 64])
            let loss = try Tensor.linear(x, weight: w, bias: nil).relu().sum()
            try loss.backward()
            #expect(MemoryStats.threadLiveBytes > baseline)
        }
        #expect(MemoryStats.threadLiveBytes == baseline)
    }

    @Test func matmulsOnSeveralThreadsAgreeWithOneThread() throws {
        // OpenBLAS's serial build shares buffers between concurrent calls unless they are serialized.
        var g = RandomGenerator(seed: 7)
        let a = Tensor.uniform([128, 160], in: -1...1, using: &g).scalars
        let b = Tensor.uniform([160, 64], in: -1...1, using: &g).scalars
        let expected = try Tensor(a, shape: [128, 160]).matmul(Tensor(b, shape: [160, 64])).scalars
        let wrong = Mutex(0)
        let done = DispatchGroup()
        // More threads than cores: a thread preempted inside SGEMM is what exposes shared buffers.
        for _ in 0..<8 {
            done.enter()
            Thread {
                let x = Tensor(a, shape: [128, 160])
                let y = Tensor(b, shape: [160, 64])
                for _ in 0..<1000 where (try? x.matmul(y).scalars) != expected {
                    wrong.withLock { $0 += 1 }
                }
                done.leave()
            }.start()
        }
        done.wait()
        #expect(wrong.withLock { $0 } == 0)
    }

    @Test func seededRandomIsDeterministic() {
        var a = RandomGenerator(seed: 42)
        var b = RandomGenerator(seed: 42)
        #expect(Tensor.randn([16], using: &a).scalars == Tensor.randn([16], using: &b).scalars)
        var c = RandomGenerator(seed: 43)
        #expect(Tensor.randn([16], using: &a).scalars != Tensor.randn([16], using: &c).scalars)
    }
}
