import Foundation

/// Lints files and folders of Swift sources.
package enum Linter {
    /// Every `.swift` file under `paths` (folders recursively, skipping hidden and `.build` folders), sorted.
    package static func swiftFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw LintError("\(path): no such file or directory")
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let base = URL(fileURLWithPath: path)
            guard
                let walker = FileManager.default.enumerator(
                    at: base, includingPropertiesForKeys: [.isDirectoryKey],
                    options: [.skipsHiddenFiles])
            else { continue }
            for case let url as URL in walker {
                if url.lastPathComponent.hasPrefix(".build") {
                    walker.skipDescendants()
                    continue
                }
                if url.pathExtension == "swift" {
                    files.append(
                        path.hasSuffix("/")
                            ? path + url.path.dropFirst(base.path.count + 1) : path + "/" + url.path.dropFirst(base.path.count + 1))
                }
            }
        }
        return files.sorted()
    }

    package static func lint(_ paths: [String]) throws -> [LintFinding] {
        try swiftFiles(paths).flatMap { file -> [LintFinding] in
            guard let source = try? String(contentsOfFile: file, encoding: .utf8) else { throw LintError("\(file): cannot read the file") }
            return ForwardCallRule.check(source: source, file: file)
        }
    }
}

package struct LintError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
