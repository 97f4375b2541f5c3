import Foundation

/// Headless Chromium for the HTML report tests: loads a file, returns the DOM after the
/// page's scripts ran, the console messages and every URL the browser asked the network for.
/// Every launch has a deadline (the process is killed after it), so a test never hangs.
enum Chromium {
    /// `$CHROMIUM`, or Debian's `chromium`; nil when absent (the tests then skip, saying so).
    static let path: String? = {
        let candidates = [ProcessInfo.processInfo.environment["CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser"]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    struct Page {
        var dom: String
        /// `CONSOLE` lines of the page (errors, CSP violations, logs).
        var console: [String]
        /// URLs in the network log other than the page itself and Chromium's own services.
        var requests: [String]
    }

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    /// Chromium's own background traffic (updates, time, accounts), which happens with or
    /// without a page and is not the page's doing.
    static let browserServices = ["google.com/", "googleapis.com/", "gvt1.com/", "gstatic.com/"]

    /// Opens `file`; `screenshot` also writes a PNG of `size` (width, height).
    static func load(_ file: String, screenshot: String? = nil, size: (Int, Int) = (1300, 900), seconds: Double = 45) throws -> Page {
        guard let path else { throw Timeout(description: "chromium is not installed") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("dom.html")
        let err = dir.appendingPathComponent("stderr.txt")
        let net = dir.appendingPathComponent("net.json")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        var arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--user-data-dir=\(dir.appendingPathComponent("profile").path)",
            "--enable-logging=stderr", "--v=0", "--log-net-log=\(net.path)", "--net-log-capture-mode=Everything",
            "--virtual-time-budget=15000", "--window-size=\(size.0),\(size.1)",
        ]
        arguments.append(screenshot.map { "--screenshot=\($0)" } ?? "--dump-dom")
        arguments.append(URL(fileURLWithPath: file).absoluteString)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        if done.wait(timeout: .now() + seconds) == .timedOut {
            process.terminate()
            if done.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = done.wait(timeout: .now() + 5)
            }
            throw Timeout(description: "chromium did not finish within \(Int(seconds)) s")
        }
        let dom = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        let console = stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        let log = (try? String(contentsOf: net, encoding: .utf8)) ?? ""
        let page = URL(fileURLWithPath: file).absoluteString
        var requests = Set<String>()
        var rest = Substring(log)
        while let r = rest.range(of: "\"url\":\"") {
            let after = rest[r.upperBound...]
            guard let end = after.firstIndex(of: "\"") else { break }
            let url = String(after[..<end])
            if url != page, !browserServices.contains(where: url.contains) { requests.insert(url) }
            rest = after[end...]
        }
        return Page(dom: dom, console: console, requests: requests.sorted())
    }
}

extension String {
    /// How many times `needle` occurs.
    func occurrences(of needle: String) -> Int { components(separatedBy: needle).count - 1 }

    /// The text between the element with `id="…"`'s opening tag and `close`.
    func element(id: String, close: String) -> String? {
        guard let start = range(of: "id=\"\(id)\"") else { return nil }
        let tail = self[start.upperBound...]
        guard let end = tail.range(of: close) else { return nil }
        return String(tail[..<end.lowerBound])
    }
}
