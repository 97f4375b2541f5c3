import Tensors
import TraceEvents
import TraceRuntime

/// The tracer's checks of training state (on while profiling, like the bypass checks):
/// a mode-dependent layer's mode against the grad mode and the optimizer, and BatchNorm's
/// batch statistics.
@usableFromInline package enum StateChecks {
    /// A traced call of a mode-dependent layer (Dropout, BatchNorm), before its span opens.
    @usableFromInline package static func modeDependentCall(_ module: AnyModule) {
        guard let session = Tracer.current, SpanTracer.canJudgeThread else { return }
        if module.isTraining && !GradMode.isEnabled {
            session.findings.report(
                module: module.traceID, caller: SpanTracer.innermostModule,
                evidence: .trainingModeWithoutGrad, step: TraceSession.step)
        }
        let interval = UInt64(session.epoch) << 32 | UInt64(session.findings.modeInterval.load(ordering: .relaxed))
        let bit: UInt8 = module.isTraining ? 2 : 1
        if module.notedModes.interval != interval { module.notedModes = (interval, 0) }
        guard module.notedModes.modes & bit == 0 else { return }
        module.notedModes.modes |= bit
        session.findings.noteModeDependentCall(module: module.traceID, training: module.isTraining)
    }

    /// At an optimizer step: the mode-dependent layers of the trees it updates that ran only in
    /// eval mode since the previous step were trained with `eval()` left on.
    package static func optimizerStepped(parameters: [Tensor]) {
        guard TraceFlags.current.contains(.bypass), let session = Tracer.current else { return }
        let evalOnly = session.findings.takeEvalOnlyModules()
        guard !evalOnly.isEmpty else { return }
        var roots = Set<UInt32>()
        for p in parameters {
            for owner in p.parameter?.owners ?? [] { if let root = session.modules.info(owner)?.root { roots.insert(root) } }
        }
        for module in evalOnly.sorted() where roots.contains(session.modules.info(module)?.root ?? 0) {
            session.findings.report(module: module, caller: 0, evidence: .evalModeInTraining, step: TraceSession.step)
        }
    }

    /// BatchNorm in training mode: one value per channel gives a variance of zero (PyTorch
    /// refuses it). Call from `forward` with the number of values each channel's statistics use.
    package static func batchStatistics(_ module: AnyModule, valuesPerChannel: Int) {
        guard valuesPerChannel <= 1, module.isTraining, TraceFlags.current.contains(.bypass),
            let session = Tracer.current, SpanTracer.canJudgeThread
        else { return }
        // Called inside the layer's own wrapper: the caller is the module that holds it.
        let caller = module.wrapperParent == UInt32.max ? 0 : module.wrapperParent
        session.findings.report(module: module.traceID, caller: caller, evidence: .batchNormSingleValue, step: TraceSession.step)
    }
}
