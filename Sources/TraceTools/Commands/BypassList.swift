import TraceStore

/// The bypass findings of one run (`tracectl bypass`).
package struct BypassList {
    /// The run the findings belong to.
    package let model: TraceModel
    /// Findings as stored, with module names resolved.
    package let findings: [Report.Bypass]
    /// The run's crash record, if its process died.
    package let crash: CrashRecord?
    /// Why the findings are unknown (a crashed run): `render` still shows the crash; the command exits 2.
    package private(set) var unknown: String?

    /// The findings of run `run` (the latest when nil). Throws for a run that has not ended:
    /// findings are written when a run ends, so none are known (not the same as none found).
    package init(reader: TraceReader, run: Int64?) throws {
        model = try TraceModel(reader: reader, run: reader.run(run))
        findings = try Report.loadBypasses(reader, model)
        crash = try reader.crash(runID: model.run.id)
        if findings.isEmpty, let crash {
            unknown = "run \(model.run.id) \(crash.summary): bypass findings are written when a run ends, so none are known"
            return
        }
        if findings.isEmpty && model.run.runStatus?.isFinished != true {
            throw StoreError(
                "run \(model.run.id) is \(model.run.status) (still running, or its process was killed): "
                    + "bypass findings are written when a run ends, so none are known")
        }
    }

    /// The findings in `format` (JSON: an object with the run id and a `bypasses` array).
    package func render(_ format: OutputFormat) -> String {
        let table = ReportRenderer.bypassTable(findings)
        switch format {
        case .json:
            return
                "{\"run\":\(model.run.id),\"bypasses\":\(unknown == nil ? table.render(.json) : "null"),\"crash\":\(CrashText.json(crash))}"
        case .csv: return table.render(.csv)
        case .table:
            if let crash, unknown != nil { return CrashText.lines(crash).joined(separator: "\n") }
            return findings.isEmpty ? "No bypasses in run \(model.run.id)." : table.render(.table)
        }
    }
}
