/// Replacing a tensor's values in place.
extension Tensor {
    /// Copies `source`'s values into this tensor's storage, outside autograd (PyTorch's
    /// `with torch.no_grad(): weight.copy_(source)`). The tensor object stays the same, so a
    /// module and an optimizer holding it both see the new values; the optimizer's state
    /// (momentum, Adam's moments) is kept. Throws when the shapes or dtypes differ or this
    /// tensor is a non-contiguous view.
    public func assign(_ source: Tensor) throws {
        guard source.shape == shape, source.dtype == dtype, isContiguous else {
            throw TensorError("assign", [shape, source.shape], "expected a contiguous target and a source of the same shape and dtype")
        }
        let values = source.contiguousStorageTensor
        UnsafeMutableRawPointer(floats).copyMemory(from: UnsafeRawPointer(values.floats), byteCount: count * 4)
    }
}
