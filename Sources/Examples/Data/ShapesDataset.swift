import Tensors

/// Small grayscale images of ten kinds of shapes, drawn procedurally with random
/// position, size, stroke and noise. Nothing is downloaded.
package struct ShapesDataset {
    package static let side = 28
    package static let classes = ["disc", "ring", "square", "frame", "triangle", "plus", "cross", "hbar", "vbar", "diagonal"]

    /// `[count, 28 * 28]` pixels in [0, 1] (reshape to `[count, 1, 28, 28]` for a CNN).
    package let images: [Float]
    package let labels: [Int32]
    package var count: Int { labels.count }

    package init(count: Int, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        let side = ShapesDataset.side
        var images = [Float](repeating: 0, count: count * side * side)
        var labels = [Int32](repeating: 0, count: count)
        for n in 0..<count {
            let label = generator.int(below: ShapesDataset.classes.count)
            labels[n] = Int32(label)
            let radius = 5 + 6 * generator.unit()
            let cx = radius + 1 + (Float(side) - 2 * radius - 2) * generator.unit()
            let cy = radius + 1 + (Float(side) - 2 * radius - 2) * generator.unit()
            let stroke = 1.2 + 1.3 * generator.unit()
            let ink = 0.6 + 0.4 * generator.unit()
            for y in 0..<side {
                for x in 0..<side {
                    let dx = Float(x) - cx
                    let dy = Float(y) - cy
                    let inside = ShapesDataset.covers(label, dx, dy, radius, stroke)
                    let noise = 0.15 * generator.unit()
                    images[(n * side + y) * side + x] = min(1, (inside ? ink : 0) + noise)
                }
            }
        }
        self.images = images
        self.labels = labels
    }

    /// Whether pixel offset (dx, dy) from the centre is inked for shape `label`.
    static func covers(_ label: Int, _ dx: Float, _ dy: Float, _ r: Float, _ w: Float) -> Bool {
        let d = (dx * dx + dy * dy).squareRoot()
        let (ax, ay) = (abs(dx), abs(dy))
        switch label {
        case 0: return d <= r
        case 1: return abs(d - r) <= w / 2 + 0.3
        case 2: return ax <= r * 0.8 && ay <= r * 0.8
        case 3: return max(ax, ay) <= r * 0.8 && max(ax, ay) >= r * 0.8 - w
        case 4: return dy <= r * 0.7 && dy >= -r * 0.7 && ax <= (dy + r * 0.7) * 0.6
        case 5: return (ax <= w / 2 && ay <= r) || (ay <= w / 2 && ax <= r)
        case 6: return abs(ax - ay) <= w * 0.7 && ax <= r * 0.8
        case 7: return ay <= w / 2 + 0.5 && ax <= r
        case 8: return ax <= w / 2 + 0.5 && ay <= r
        default: return abs(dx - dy) <= w * 0.7 && ax <= r * 0.8
        }
    }

    /// Rows `indices` as a batch: pixels `[B, 784]` and int32 labels `[B]`.
    package func batch(_ indices: ArraySlice<Int>) -> (x: Tensor, y: Tensor) {
        let pixels = ShapesDataset.side * ShapesDataset.side
        var x = [Float]()
        x.reserveCapacity(indices.count * pixels)
        for i in indices { x.append(contentsOf: images[i * pixels..<(i + 1) * pixels]) }
        return (Tensor(x, shape: [indices.count, pixels]), Tensor(indices: indices.map { labels[$0] }, shape: [indices.count]))
    }
}
