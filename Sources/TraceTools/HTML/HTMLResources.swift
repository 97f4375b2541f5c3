import Foundation

/// The report page's template, script and style: files under `HTML/Resources`, copied into
/// the TraceTools resource bundle at build time and read at run time.
///
/// The bundle is looked up next to the running executable (symlinks resolved), then where
/// SwiftPM's `Bundle.module` would look, then in the source tree this file was built from, so
/// `tracectl` works from any directory; a missing bundle is one clear error, not a crash.
enum HTMLResources {
    static let bundleName = "Tracewell_TraceTools.resources"

    static func directories() -> [URL] {
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent(bundleName))
        candidates.append(Bundle.main.bundleURL.appendingPathComponent(bundleName))
        if let path = CommandLine.arguments.first, path.contains("/") {
            let url = URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent()
            candidates.append(url.appendingPathComponent(bundleName))
        }
        var dirs = candidates.map { $0.appendingPathComponent("Resources") }
        dirs.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources"))
        return dirs
    }

    /// The page's script files, in the order they are inlined.
    static let scripts = ["core.js", "flame.js", "tables.js", "timeline.js", "graph.js", "compare.js", "main.js"]

    /// The page's whole script.
    static func script() throws -> String { try scripts.map(text).joined(separator: "\n") }

    /// The text of resource `name` (e.g. `report.js`).
    static func text(_ name: String) throws -> String {
        for dir in directories() {
            let url = dir.appendingPathComponent(name)
            if let data = FileManager.default.contents(atPath: url.path) { return String(decoding: data, as: UTF8.self) }
        }
        throw ExportError("cannot find the HTML report's \(name): \(bundleName) should be next to the executable")
    }
}
