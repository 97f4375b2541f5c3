import TraceStore

/// The bypass findings of one run (`tracectl bypass`).
package struct BypassList {
    /// The run the findings belong to.
    package let model: TraceModel
    /// Findings as stored, with module names resolved.
    package let findings: [Report.Bypass]

    /// The findings of run `run` (the latest when nil). Throws for a run that has not ended:
    /// findings are written when a run ends, so none are known (not the same as none found).
    package init(reader: TraceReader, run: Int64?) throws {
        model = try TraceModel(reader: reader, run: reader.run(run))
        findings = try Report.loadBypasses(reader, model)
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
        case .json: return "{\"run\":\(model.run.id),\"bypasses\":\(table.render(.json))}"
        case .csv: return table.render(.csv)
        case .table: return findings.isEmpty ? "No bypasses in run \(model.run.id)." : table.render(.table)
        }
    }
}
