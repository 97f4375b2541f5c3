import ArgumentParser
import Foundation

/// An error whose description is the one line a command-line tool prints for it.
public protocol OneLineError: Error, CustomStringConvertible {}

/// An input error with its one-line message.
public struct Failure: OneLineError {
    /// The message, without the tool's name.
    public let description: String
    /// An error printed as `tool: description`.
    public init(_ description: String) { self.description = description }
}

extension ParsableCommand {
    /// Parses the command line and runs the command, mapping every outcome to the tools'
    /// documented exit status: 0 success (and `--help`), the status of an `ExitCode` (1: findings),
    /// 2 for usage and input errors, each reported as one line on stderr, prefixed with `tool`.
    public static func runAsTool(_ tool: String) -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch let error as OneLineError {
            fail(tool, error.description)
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // Usage errors: the message alone, on one line, and where to read more.
            let message = self.message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            fail(tool, message + " (see \(tool) --help)")
        }
    }

    private static func fail(_ tool: String, _ message: String) -> Never {
        let line = tool + ": " + message.split(whereSeparator: \.isNewline).joined(separator: " ") + "\n"
        FileHandle.standardError.write(Data(line.utf8))
        Foundation.exit(2)
    }
}
