import ArgumentParser
import CommandLineSupport
import Foundation
import TraceStore

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a program built on the Tracewell runtime with tracing switched on.",
        discussion: """
            Sets TRACEWELL_TRACE (and TRACEWELL_OPTIONS) for the program, which then traces itself from \
            start to exit without any change to its code. Example:
              tracectl record -o Traces/cnn.sqlite -- .build/release/train --model cnn --no-trace
            Exits with the program's status.
            """)

    @Option(name: .shortAndLong, help: "The trace file to write (a new run is appended if it exists).")
    var output: String
    @Option(help: "Profiler options, e.g. ops,noshapes,wait=1,warmup=1,active=3 (see TRACEWELL_OPTIONS).")
    var options: String?
    @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the program to run after --") }
    }

    func run() throws {
        let path = URL(fileURLWithPath: output).standardizedFileURL.path
        // A file that is there but not a readable trace is refused before the program runs.
        let runsBefore = FileManager.default.fileExists(atPath: path) ? try TraceReader(path: path).runs().count : 0
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        var environment = ProcessInfo.processInfo.environment
        environment["TRACEWELL_TRACE"] = path
        environment["TRACEWELL_OPTIONS"] = options
        process.environment = environment
        do {
            try process.run()
        } catch {
            throw Failure("record: cannot run \(command[0]): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        let status = process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        let runs: [RunInfo]
        do {
            runs = FileManager.default.fileExists(atPath: path) ? try TraceReader(path: path).runs() : []
        } catch {
            throw Failure("record: \(command[0]) ran, but its trace cannot be read: \(error)")
        }
        guard runs.count > runsBefore, let last = runs.last else {
            throw Failure("record: \(command[0]) wrote no trace to \(path); is it built on the Tracewell runtime (linking Profiler)?")
        }
        FileHandle.standardError.write(
            """
            trace: \(path) (run \(last.id), \(last.status), \(last.spanCount) spans, \(last.droppedEvents) dropped)\n
            """.data(using: .utf8)!)
        if status != 0 { throw ExitCode(status) }
    }
}
