import Modules
import Tensors

/// A small convolutional classifier for 28x28 single-channel images.
package final class CNN: Module<Tensor, Tensor> {
    package let conv1 = Conv2d(1, 8, kernelSize: 3, padding: 1)
    package let bn1 = BatchNorm2d(8)
    package let act1 = ReLU()
    package let pool1 = MaxPool2d(2)
    package let conv2 = Conv2d(8, 16, kernelSize: 3, padding: 1)
    package let act2 = ReLU()
    package let pool2 = MaxPool2d(2)
    package let flatten = Flatten()
    package let dropout = Dropout(0.1)
    package let fc = Linear(16 * 7 * 7, 10)
    package var bypassLastLayer = false

    package override init() { super.init() }

    package override func forward(_ x: Tensor) throws -> Tensor {
        let h = try pool1(act1(bn1(conv1(x))))
        let features = try dropout(flatten(pool2(act2(conv2(h)))))
        return bypassLastLayer ? try fc.forward(features) : try fc(features)
    }
}
