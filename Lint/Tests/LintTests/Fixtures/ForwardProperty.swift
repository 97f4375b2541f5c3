// A file that declares a property named `forward`: `camera.forward` may be that property.
import Modules
import Tensors

struct Vector { var x = 0.0 }

protocol Oriented {
    var forward: Vector { get }
}

func look(_ direction: Vector) {}

func aim(_ camera: Camera3D, _ model: Net, _ xs: [Tensor]) throws {
    look(camera.forward)
    let direction = camera.forward
    _ = camera.forward.x
    _ = direction
    _ = try xs.map(model.fc.forward)
}

final class Net: Module<Tensor, Tensor> {
    let fc = Linear(2, 2)

    func batch(_ xs: [Tensor]) throws -> [Tensor] {
        try xs.map(fc.forward)
    }
}
