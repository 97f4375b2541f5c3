import CTracing

/// Switches gradient recording off for a scope on the calling thread.
public enum GradMode {
    /// True unless inside `withoutGradients`.
    @inlinable public static var isEnabled: Bool { ct_state().pointee.gradDisabled == 0 }

    /// Runs `body` without recording gradients (PyTorch's `torch.no_grad()`).
    public static func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        ct_state().pointee.gradDisabled += 1
        defer { ct_state().pointee.gradDisabled -= 1 }
        return try body()
    }
}

/// Runs `body` without recording gradients.
public func noGrad<R>(_ body: () throws -> R) rethrows -> R { try GradMode.withoutGradients(body) }
