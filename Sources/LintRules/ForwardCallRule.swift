import SwiftParser
import SwiftSyntax

/// A direct call of `forward` that skips a module's call wrapper.
public struct LintFinding: Equatable, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    /// The call as written, `fc2.forward(h)`.
    public var call: String
    /// What to write instead, `fc2(h)`.
    public var fix: String

    public var message: String {
        "'\(call)' skips the module's call wrapper: hooks do not fire and the profiler does not see the call; write '\(fix)' instead"
    }

    /// `file:line:col: warning: ...`, the format editors and CI annotate.
    public var diagnostic: String { "\(file):\(line):\(column): warning: \(message)" }
}

/// Finds calls of `forward` that bypass the call wrapper, with a real Swift parser:
/// `x.forward(...)` on any module, `self.forward(...)` or a bare `forward(...)` from a
/// method other than `forward`, and `super.forward(...)` outside an override of `forward`.
/// Comments, strings, declarations named `forward`, argument labels and enum cases
/// (`.forward`, `Direction.forward(1)`) are not calls of a module's `forward`.
public enum ForwardCallRule {
    public static func check(source: String, file: String) -> [LintFinding] {
        let tree = Parser.parse(source: source)
        let visitor = Visitor(file: file, converter: SourceLocationConverter(fileName: file, tree: tree))
        visitor.walk(tree)
        return visitor.findings
    }

    final class Visitor: SyntaxVisitor {
        let file: String
        let converter: SourceLocationConverter
        var findings: [LintFinding] = []
        /// Names of the enclosing functions, innermost last; `nil` for closures and accessors.
        var functions: [String?] = []
        var typeDepth = 0

        init(file: String, converter: SourceLocationConverter) {
            self.file = file
            self.converter = converter
            super.init(viewMode: .sourceAccurate)
        }

        override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind {
            functions.append(node.name.text)
            return .visitChildren
        }
        override func visitPost(_ node: FunctionDeclSyntax) { functions.removeLast() }

        override func visit(_ node: InitializerDeclSyntax) -> SyntaxVisitorContinueKind {
            functions.append("init")
            return .visitChildren
        }
        override func visitPost(_ node: InitializerDeclSyntax) { functions.removeLast() }

        override func visit(_ node: ClassDeclSyntax) -> SyntaxVisitorContinueKind { typeDepth += 1; return .visitChildren }
        override func visitPost(_ node: ClassDeclSyntax) { typeDepth -= 1 }
        override func visit(_ node: StructDeclSyntax) -> SyntaxVisitorContinueKind { typeDepth += 1; return .visitChildren }
        override func visitPost(_ node: StructDeclSyntax) { typeDepth -= 1 }
        override func visit(_ node: ExtensionDeclSyntax) -> SyntaxVisitorContinueKind { typeDepth += 1; return .visitChildren }
        override func visitPost(_ node: ExtensionDeclSyntax) { typeDepth -= 1 }

        /// The method this code belongs to (closures inside it count as it).
        var enclosingMethod: String? { functions.last ?? nil }

        override func visit(_ node: FunctionCallExprSyntax) -> SyntaxVisitorContinueKind {
            let arguments = node.arguments.trimmedDescription
            if let member = node.calledExpression.as(MemberAccessExprSyntax.self), member.declName.baseName.text == "forward",
               let base = member.base {
                if base.is(SuperExprSyntax.self) {
                    if enclosingMethod != "forward" { report(node, fix: "self(\(arguments))") }
                } else if let reference = base.as(DeclReferenceExprSyntax.self), reference.baseName.text == "self" {
                    if enclosingMethod != "forward" { report(node, fix: "self(\(arguments))") }
                } else if !looksLikeType(base) {
                    report(node, fix: "\(base.trimmedDescription)(\(arguments))")
                }
            } else if let reference = node.calledExpression.as(DeclReferenceExprSyntax.self),
                      reference.baseName.text == "forward", typeDepth > 0, let method = enclosingMethod, method != "forward" {
                report(node, fix: "self(\(arguments))")
            }
            return .visitChildren
        }

        /// `Direction.forward(1)`: a capitalized base names a type (an enum case or static member).
        func looksLikeType(_ base: ExprSyntax) -> Bool {
            guard let reference = base.as(DeclReferenceExprSyntax.self) else { return false }
            return reference.baseName.text.first?.isUppercase == true
        }

        func report(_ node: FunctionCallExprSyntax, fix: String) {
            let location = converter.location(for: node.positionAfterSkippingLeadingTrivia)
            let text = node.trimmedDescription.split(separator: "\n").map { $0.trimmingCharacters(in: " ") }.joined(separator: " ")
            findings.append(LintFinding(file: file, line: location.line, column: location.column, call: text, fix: fix))
        }
    }
}

extension Substring {
    func trimmingCharacters(in character: Character) -> Substring {
        var s = self
        while s.first == character { s.removeFirst() }
        while s.last == character { s.removeLast() }
        return s
    }
}
