/// Evidence that a module's `forward` ran without its wrapper.
public enum BypassEvidence: UInt8, Sendable, CaseIterable {
    /// One of its parameters was read by an op while its wrapper was not active.
    case parameterRead = 1
    /// A built-in layer's `forward` ran while the innermost wrapper was another module's.
    case foreignForward = 2
    /// It never entered its wrapper in a window in which its parent ran, and nothing under it ran.
    case neverRan = 3
    /// Its children ran while its own wrapper was not active: its `forward` was called directly
    /// (`model.forward(x)`, or a helper of the module calling `forward`).
    case wrapperSkipped = 4
    /// It ran inside a registered model's wrapper but is part of no tree that was described
    /// (kept in a dictionary or a local): its parameters are not in `parameters()`.
    case unregistered = 5
    /// A mode-dependent layer (Dropout, BatchNorm) ran in training mode while gradients were
    /// disabled: an evaluation pass without `eval()`.
    case trainingModeWithoutGrad = 6
    /// A mode-dependent layer ran in eval mode in a step that then updated the parameters:
    /// training with `eval()` left on.
    case evalModeInTraining = 7
    /// BatchNorm in training mode saw one value per channel: its statistics are meaningless.
    case batchNormSingleValue = 8
    /// A model wrapped by `DistributedDataParallel` ran without the wrapper's forward outside
    /// `noSync`: its gradients were not all-reduced (nor its buffers broadcast) in that step.
    case ddpForwardSkipped = 9
    /// The first module whose forward output held a NaN or an infinity (with
    /// `ProfilerOptions.detectNonFinite`); its count includes the module outputs after it that did.
    case nonFinite = 10

    /// The name stored in the `bypasses` table and shown in reports.
    public var name: String {
        switch self {
        case .parameterRead: "parameter_read"
        case .foreignForward: "forward_without_wrapper"
        case .neverRan: "never_ran"
        case .wrapperSkipped: "wrapper_skipped"
        case .unregistered: "unregistered"
        case .trainingModeWithoutGrad: "train_mode_without_grad"
        case .evalModeInTraining: "eval_mode_in_training"
        case .batchNormSingleValue: "batch_norm_single_value"
        case .ddpForwardSkipped: "ddp_forward_skipped"
        case .nonFinite: "non_finite"
        }
    }

    /// True for findings about state (modes, batch sizes) rather than a skipped wrapper.
    public var isStateFinding: Bool { [.trainingModeWithoutGrad, .evalModeInTraining, .batchNormSingleValue, .nonFinite].contains(self) }

    /// The evidence stored under `name`, if this version knows it.
    public init?(name: String) {
        guard let match = BypassEvidence.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}

/// A bypass site: which module, called from where, how it was seen, how often.
public struct BypassFinding: Sendable, Equatable {
    /// The module whose wrapper was skipped.
    public var module: UInt32
    /// The module whose wrapper was innermost (0: outside any module).
    public var caller: UInt32
    /// How the bypass was seen.
    public var evidence: BypassEvidence
    /// How many times it was seen.
    public var count: Int
    /// The profiler step in which it was first seen.
    public var firstStep: UInt32
    /// For `parameterRead`: the parameter's dotted name.
    public var detail: String

    /// A finding as the detector reports it.
    public init(module: UInt32, caller: UInt32, evidence: BypassEvidence, count: Int, firstStep: UInt32, detail: String) {
        self.module = module
        self.caller = caller
        self.evidence = evidence
        self.count = count
        self.firstStep = firstStep
        self.detail = detail
    }
}
