import Modules
import Tensors

/// A small convolutional classifier for 28x28 single-channel images.
public final class CNN: Module<Tensor, Tensor> {
    public let conv1 = Conv2d(1, 8, kernelSize: 3, padding: 1)
    public let bn1 = BatchNorm2d(8)
    public let act1 = ReLU()
    public let pool1 = MaxPool2d(2)
    public let conv2 = Conv2d(8, 16, kernelSize: 3, padding: 1)
    public let act2 = ReLU()
    public let pool2 = MaxPool2d(2)
    public let flatten = Flatten()
    public let dropout = Dropout(0.1)
    public let fc = Linear(16 * 7 * 7, 10)
    public var bypassLastLayer = false

    public override init() { super.init() }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let h = try pool1(act1(bn1(conv1(x))))
        let features = try dropout(flatten(pool2(act2(conv2(h)))))
        return bypassLastLayer ? try fc.forward(features) : try fc(features)
    }
}
