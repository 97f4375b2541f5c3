import ArgumentParser
import TraceTools

struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the static graph the profiler recorded (TorchScript-like), as text, DOT or JSON.",
        discussion: """
            --level ops: the ops in SSA form with shapes, parameters as named inputs and each op's module \
            scope, like torch.jit.trace's inlined graph; ops of a bypassed module are marked. --level modules: \
            which module called which (prim::CallMethod), with registered modules never called. \
            The profiler records a graph on the first traced step and a later one; when they differ \
            (data-dependent control flow) the first differing node is named.
            """)

    enum Format: String, ExpressibleByArgument { case text, dot, json }
    enum Level: String, ExpressibleByArgument { case ops, modules }

    @OptionGroup var trace: TraceOptions
    @Option(help: "text, dot or json.")
    var format: Format = .text
    @Option(help: "ops or modules.")
    var level: Level = .ops
    @Option(help: "The step whose graph to print (default: the first recorded).")
    var step: Int64?

    func run() throws {
        let view = try GraphView(reader: trace.open(), run: trace.run)
        if format == .json {
            _ = try view.graph(step: step)
            print(view.json())
            return
        }
        let graph = try view.graph(step: step)
        switch (format, level) {
        case (.dot, .ops): print(view.opsDot(graph))
        case (.dot, .modules): print(view.modulesDot(graph))
        case (_, .ops):
            print(view.opsText(graph))
            if let comparison = view.comparison { print("\n" + comparison) }
        case (_, .modules): print(view.modulesText(graph))
        }
    }
}
