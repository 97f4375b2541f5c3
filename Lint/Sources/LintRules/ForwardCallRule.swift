import SwiftParser
import SwiftSyntax

/// Finds uses of `forward` that bypass the call wrapper, with a real Swift parser.
///
/// Reported: calls `x.forward(a)` on a receiver that is or may be a module, `self.forward(a)`
/// or a bare `forward(a)` from a method of a module other than `forward`, `super.forward(a)`
/// outside an override of `forward`, and `forward` passed as a function value
/// (`checkpoint(layer.forward, h)`, `let f = fc.forward`, `xs.map(fc.forward)`).
///
/// Not reported: calls that cannot be `Module.forward(_:)`, which takes exactly one unlabelled
/// argument (labels, two or more arguments, none, or a trailing closure); receivers whose type
/// the file shows is not a module (a struct, enum, actor, protocol or non-module class declared
/// in it, literals, collections, common standard types); a `forward` that is a local name or a
/// property; comments, strings, declarations named `forward`, argument labels and enum cases.
package enum ForwardCallRule {
    package static func check(source: String, file: String) -> [LintFinding] {
        let tree = Parser.parse(source: source)
        let visitor = Visitor(file: file, tree: tree)
        visitor.walk(tree)
        return visitor.findings.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
    }

    final class Visitor: SyntaxVisitor {
        let file: String
        let converter: SourceLocationConverter
        let types: FileTypes
        let receivers: Receivers
        var findings: [LintFinding] = []
        /// The method each enclosing function belongs to, innermost last: a member function's
        /// own name; a local function or closure counts as the method it is written in.
        var functions: [String] = []

        init(file: String, tree: SourceFileSyntax) {
            self.file = file
            converter = SourceLocationConverter(fileName: file, tree: tree)
            types = FileTypes(tree)
            receivers = Receivers(types: types)
            super.init(viewMode: .sourceAccurate)
        }

        override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind {
            // `func base(_ t:) { try super.forward(t) }` inside forward runs as part of forward.
            let isMember = node.parent?.is(MemberBlockItemSyntax.self) ?? false
            functions.append(isMember ? node.name.text : functions.last ?? node.name.text)
            return .visitChildren
        }
        override func visitPost(_ node: FunctionDeclSyntax) { functions.removeLast() }

        override func visit(_ node: InitializerDeclSyntax) -> SyntaxVisitorContinueKind {
            functions.append("init")
            return .visitChildren
        }
        override func visitPost(_ node: InitializerDeclSyntax) { functions.removeLast() }

        /// The method this code belongs to; nil at the top level or in a property's initializer.
        var enclosingMethod: String? { functions.last }

        /// Whether the type around `node` may be a module (`self` and bare calls); nil outside any type.
        func enclosingKind(_ node: some SyntaxProtocol) -> ModuleKind? {
            receivers.enclosingType(of: Syntax(node)).map(types.kind(ofType:))
        }

        // MARK: Calls

        override func visit(_ node: FunctionCallExprSyntax) -> SyntaxVisitorContinueKind {
            guard Self.canBeModuleForward(node) else { return .visitChildren }
            let argument = node.arguments.first!.expression.trimmedDescription
            if let member = node.calledExpression.as(MemberAccessExprSyntax.self), member.declName.baseName.text == "forward",
                member.declName.argumentNames == nil, let base = member.base
            {
                if base.is(SuperExprSyntax.self) {
                    if enclosingMethod != "forward", enclosingKind(node) != .notModule {
                        findings.append(
                            .superInHelper(
                                text(node), arguments: argument, method: enclosingMethod,
                                at: location(node), file: file))
                    }
                } else if let reference = base.as(DeclReferenceExprSyntax.self), reference.baseName.text == "self" {
                    if enclosingMethod != "forward", enclosingKind(node) != .notModule {
                        findings.append(.call(text(node), fix: "self(\(argument))", at: location(node), file: file))
                    }
                } else if mayBeModule(base) {
                    findings.append(.call(text(node), fix: wrapperCall(base, argument), at: location(node), file: file))
                }
            } else if let reference = node.calledExpression.as(DeclReferenceExprSyntax.self),
                reference.baseName.text == "forward", reference.argumentNames == nil,
                isBareMethodReference(reference)
            {
                findings.append(.call(text(node), fix: "self(\(argument))", at: location(node), file: file))
            }
            return .visitChildren
        }

        /// `Module.forward(_:)` takes one unlabelled argument: anything else is another `forward`.
        static func canBeModuleForward(_ call: FunctionCallExprSyntax) -> Bool {
            call.arguments.count == 1 && call.arguments.first!.label == nil && call.trailingClosure == nil
                && call.additionalTrailingClosures.isEmpty
        }

        /// `fc2(h)`; `fc?.callAsFunction(h)` for an optional chain, which cannot be called directly.
        func wrapperCall(_ base: ExprSyntax, _ argument: String) -> String {
            base.is(OptionalChainingExprSyntax.self)
                ? "\(base.trimmedDescription).callAsFunction(\(argument))" : "\(base.trimmedDescription)(\(argument))"
        }

        /// A receiver that is a module or may be one: not a type name (`Direction.forward(1)`)
        /// and not of a type the file shows is no module.
        func mayBeModule(_ base: ExprSyntax) -> Bool {
            if let reference = base.as(DeclReferenceExprSyntax.self), reference.baseName.text.first?.isUppercase == true {
                return false
            }
            return types.kind(receivers.type(of: base)) != .notModule
        }

        /// A bare `forward` naming the enclosing module's method: inside a type that may be a
        /// module, from a method other than `forward`, and not a local or a property called `forward`.
        func isBareMethodReference(_ reference: DeclReferenceExprSyntax) -> Bool {
            guard let method = enclosingMethod, method != "forward",
                let kind = enclosingKind(reference), kind != .notModule
            else { return false }
            if receivers.isLocal("forward", at: Syntax(reference)) { return false }
            if let owner = receivers.enclosingType(of: Syntax(reference)), types.memberType(owner, "forward") != nil { return false }
            return true
        }

        // MARK: Function values

        override func visit(_ node: MemberAccessExprSyntax) -> SyntaxVisitorContinueKind {
            guard node.declName.baseName.text == "forward", let base = node.base, let explicit = Self.referenceForm(node.declName),
                !isCalled(node), explicit || isValueContext(Syntax(node))
            else { return .visitChildren }
            // With a property named `forward` in the file, `camera.forward` may be that property:
            // then only a receiver declared as a module is reported.
            let ambiguous = !explicit && types.declaresForwardProperty
            if base.is(SuperExprSyntax.self) {
                if enclosingMethod != "forward", let kind = enclosingKind(node), kind == .module || (kind == .unknown && !ambiguous) {
                    findings.append(.superInHelper(text(node), arguments: nil, method: enclosingMethod, at: location(node), file: file))
                }
            } else if let reference = base.as(DeclReferenceExprSyntax.self), reference.baseName.text == "self" {
                if enclosingMethod != "forward", let kind = enclosingKind(node), kind == .module || (kind == .unknown && !ambiguous),
                    receivers.enclosingType(of: Syntax(node)).flatMap({ types.memberType($0, "forward") }) == nil
                {
                    findings.append(.functionValue(text(node), receiver: "self", at: location(node), file: file))
                }
            } else if ambiguous ? explicitModule(base) : mayBeModule(base) {
                findings.append(.functionValue(text(node), receiver: base.trimmedDescription, at: location(node), file: file))
            }
            return .visitChildren
        }

        override func visit(_ node: DeclReferenceExprSyntax) -> SyntaxVisitorContinueKind {
            guard node.baseName.text == "forward", let explicit = Self.referenceForm(node),
                // A member name (`x.forward`) or a key path component is not a bare reference.
                !(node.parent?.is(MemberAccessExprSyntax.self) ?? false), !(node.parent?.is(KeyPathPropertyComponentSyntax.self) ?? false),
                !isCalled(node), explicit || isValueContext(Syntax(node)), isBareMethodReference(node)
            else { return .visitChildren }
            findings.append(.functionValue(text(node), receiver: "self", at: location(node), file: file))
            return .visitChildren
        }

        /// `fc.forward` (false), `fc.forward(_:)` (true), nil for `fc.forward(input:)`, which is not `Module.forward(_:)`.
        static func referenceForm(_ name: DeclReferenceExprSyntax) -> Bool? {
            guard let names = name.argumentNames else { return false }
            return names.arguments.count == 1 && names.arguments.first!.name.text == "_" ? true : nil
        }

        /// A receiver the file declares as a module: with it even a file with a `forward` property is reported.
        func explicitModule(_ base: ExprSyntax) -> Bool {
            types.kind(receivers.type(of: base)) == .module
        }

        func isCalled(_ node: some ExprSyntaxProtocol) -> Bool {
            node.parent?.as(FunctionCallExprSyntax.self)?.calledExpression.id == node.id
        }

        /// Where a function value goes somewhere to be called later: an argument, an
        /// initializer, the right side of `=`, a return value or an array element. A property
        /// named `forward` shows up elsewhere too (`camera.forward * 2`, `.forward.x`), and
        /// those are not reported.
        func isValueContext(_ node: Syntax) -> Bool {
            guard let parent = node.parent else { return false }
            if parent.is(LabeledExprSyntax.self) {
                let list = parent.parent
                return list?.parent?.is(FunctionCallExprSyntax.self) == true || list?.parent?.is(MacroExpansionExprSyntax.self) == true
            }
            if let initializer = parent.as(InitializerClauseSyntax.self) { return initializer.value.id == node.id }
            if parent.is(ReturnStmtSyntax.self) || parent.is(ArrayElementSyntax.self) { return true }
            if parent.is(ExprListSyntax.self), let sequence = parent.parent?.as(SequenceExprSyntax.self) {
                let elements = Array(sequence.elements)
                return elements.count == 3 && elements[1].is(AssignmentExprSyntax.self) && elements[2].id == node.id
            }
            return false
        }

        // MARK: Reporting

        func location(_ node: some SyntaxProtocol) -> (line: Int, column: Int) {
            let location = converter.location(for: node.positionAfterSkippingLeadingTrivia)
            return (location.line, location.column)
        }

        /// The code on one line, as written.
        func text(_ node: some SyntaxProtocol) -> String {
            node.trimmedDescription.split(separator: "\n").map { $0.trimmingCharacters(in: " ") }.joined(separator: " ")
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
