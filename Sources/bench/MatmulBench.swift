import Tensors

/// SGEMM throughput through `Tensor.matmul` (OpenBLAS, one thread).
enum MatmulBench {
    static func run(rounds: Int) throws -> [Result] {
        var generator = RandomGenerator(seed: 1)
        let cases: [(String, [Int], [Int])] = [
            ("256x256 x 256x256", [256, 256], [256, 256]),
            ("512x512 x 512x512", [512, 512], [512, 512]),
            ("MLP fc1: 64x784 x 784x256", [64, 784], [784, 256]),
            ("MLP fc2: 64x256 x 256x256", [64, 256], [256, 256]),
            ("MLP fc3: 64x256 x 256x10", [64, 256], [256, 10]),
        ]
        return try cases.map { name, a, b in
            let x = Tensor.randn(a, using: &generator)
            let y = Tensor.randn(b, using: &generator)
            let flops = 2.0 * Double(a[0] * a[1] * b[1])
            let reps = max(1, Int(2e8 / flops))
            var rates: [Double] = []
            for _ in 0..<rounds {
                let ns = try Measure.nanoseconds { for _ in 0..<reps { blackHole(try x.matmul(y)) } }
                rates.append(flops * Double(reps) / ns)
            }
            return Result(
                "matmul_gflops", name, Measure.median(rates), "GFLOP/s",
                samples: "median of \(rounds) rounds × \(reps)")
        }
    }
}
