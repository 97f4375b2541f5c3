import SwiftSyntax

/// Whether a value can be a `Module`, as far as one file tells.
enum ModuleKind: Equatable {
    case module, notModule, unknown
}

/// A receiver's static type as the file spells it.
enum ResolvedType: Equatable {
    /// A nominal type by its simple name (`Linear`, `Cursor`).
    case named(String)
    /// Arrays, tuples, functions, literals: never a module.
    case notModule
    case unknown
}

/// What one file says about types: the types it declares, their stored properties, and the
/// declared type of a name at a point in the code. Lexical, not a type checker: whatever it
/// cannot tell is `unknown`, and unknown receivers are still reported.
final class FileTypes {
    /// The package's modules (Modules' layers and the Examples models), by name.
    static let knownModules: Set<String> = [
        "Module", "Linear", "ReLU", "GELU", "Sigmoid", "Tanh", "Activation", "Conv2d", "MaxPool2d", "AvgPool2d", "Pool2d",
        "BatchNorm", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Embedding", "Flatten",
        "MultiheadSelfAttention", "Sequential", "CrossEntropyLoss", "MSELoss", "MLP", "CNN", "GPT", "TransformerBlock",
    ]
    /// Types that have no `Module.forward`: the runtime's non-module types, the standard
    /// library's and Foundation's common types and protocols.
    static let knownNotModules: Set<String> = [
        "AnyModule", "ModuleList", "Tensor", "Pair", "Optimizer", "SGD", "Adam", "AdamW",
        "Int", "Int8", "Int16", "Int32", "Int64", "UInt", "UInt8", "UInt16", "UInt32", "UInt64", "Float", "Double",
        "Bool", "String", "Substring", "Character", "Array", "Dictionary", "Set", "Range", "ClosedRange",
        "Data", "Date", "URL", "UUID",
        "Equatable", "Hashable", "Comparable", "Sendable", "Codable", "Encodable", "Decodable", "Identifiable",
        "CustomStringConvertible", "CustomDebugStringConvertible", "Error", "Sequence", "Collection", "AnyObject", "NSObject",
    ]

    /// Type declarations (class, struct, enum, actor, protocol, typealias) by simple name.
    private var declarations: [String: [DeclSyntax]] = [:]
    /// Member blocks of each type and of its extensions, by the type's simple name.
    private var memberBlocks: [String: [MemberBlockSyntax]] = [:]
    /// Whether some type in the file has a property named `forward` (`camera.forward`).
    private(set) var declaresForwardProperty = false
    private var kinds: [String: ModuleKind] = [:]

    init(_ tree: SourceFileSyntax) {
        for node in tree.allNodes {
            if let decl = node.as(ClassDeclSyntax.self) {
                add(decl.name.text, DeclSyntax(decl), decl.memberBlock)
            } else if let decl = node.as(StructDeclSyntax.self) {
                add(decl.name.text, DeclSyntax(decl), decl.memberBlock)
            } else if let decl = node.as(EnumDeclSyntax.self) {
                add(decl.name.text, DeclSyntax(decl), decl.memberBlock)
            } else if let decl = node.as(ActorDeclSyntax.self) {
                add(decl.name.text, DeclSyntax(decl), decl.memberBlock)
            } else if let decl = node.as(ProtocolDeclSyntax.self) {
                add(decl.name.text, DeclSyntax(decl), decl.memberBlock)
            } else if let decl = node.as(TypeAliasDeclSyntax.self) {
                declarations[decl.name.text, default: []].append(DeclSyntax(decl))
            } else if let decl = node.as(ExtensionDeclSyntax.self), let name = Self.simpleName(decl.extendedType) {
                memberBlocks[name, default: []].append(decl.memberBlock)
            } else if let decl = node.as(VariableDeclSyntax.self), decl.parent?.parent?.is(MemberBlockItemListSyntax.self) == true,
                decl.bindings.contains(where: { $0.pattern.as(IdentifierPatternSyntax.self)?.identifier.text == "forward" })
            {
                declaresForwardProperty = true
            }
        }
    }

    private func add(_ name: String, _ decl: DeclSyntax, _ members: MemberBlockSyntax) {
        declarations[name, default: []].append(decl)
        memberBlocks[name, default: []].append(members)
    }

    static func simpleName(_ type: TypeSyntax) -> String? {
        if let identifier = type.as(IdentifierTypeSyntax.self) { return identifier.name.text }
        if let member = type.as(MemberTypeSyntax.self) { return member.name.text }
        return nil
    }

    // MARK: Types

    func kind(_ type: ResolvedType) -> ModuleKind {
        switch type {
        case .named(let name): kind(ofType: name)
        case .notModule: .notModule
        case .unknown: .unknown
        }
    }

    /// Whether the type named `name` is a module: a class declared here whose superclass is
    /// `Module<...>`, a known layer or such a class; structs, enums, actors, protocols and
    /// classes without one are not. A declaration in the file hides a known name.
    func kind(ofType name: String) -> ModuleKind {
        if let known = kinds[name] { return known }
        kinds[name] = .unknown  // a cycle (class A: B, class B: A) stays unknown
        let result: ModuleKind
        if let decls = declarations[name] {
            let each = Set(decls.map(kind(ofDeclaration:)))
            result = each.count == 1 ? each.first! : .unknown
        } else if Self.knownModules.contains(name) {
            result = .module
        } else if Self.knownNotModules.contains(name) {
            result = .notModule
        } else {
            result = .unknown
        }
        kinds[name] = result
        return result
    }

    private func kind(ofDeclaration decl: DeclSyntax) -> ModuleKind {
        if let alias = decl.as(TypeAliasDeclSyntax.self) { return kind(resolve(alias.initializer.value)) }
        guard let decl = decl.as(ClassDeclSyntax.self) else { return .notModule }
        // A superclass comes first in the inheritance clause; without one, no Module.
        guard let first = decl.inheritanceClause?.inheritedTypes.first else { return .notModule }
        return kind(resolve(first.type))
    }

    /// The superclass a class declared here names, if any.
    func superclass(of name: String) -> String? {
        guard let decl = declarations[name]?.first?.as(ClassDeclSyntax.self),
            let first = decl.inheritanceClause?.inheritedTypes.first
        else { return nil }
        return Self.simpleName(first.type)
    }

    /// A type as written: optionals unwrapped, collections, tuples and functions never modules.
    func resolve(_ type: TypeSyntax) -> ResolvedType {
        if let identifier = type.as(IdentifierTypeSyntax.self) { return .named(identifier.name.text) }
        if let optional = type.as(OptionalTypeSyntax.self) { return resolve(optional.wrappedType) }
        if let optional = type.as(ImplicitlyUnwrappedOptionalTypeSyntax.self) { return resolve(optional.wrappedType) }
        if let attributed = type.as(AttributedTypeSyntax.self) { return resolve(attributed.baseType) }
        if let tuple = type.as(TupleTypeSyntax.self) {
            return tuple.elements.count == 1 ? resolve(tuple.elements.first!.type) : .notModule
        }
        if type.is(ArrayTypeSyntax.self) || type.is(DictionaryTypeSyntax.self) || type.is(FunctionTypeSyntax.self)
            || type.is(MetatypeTypeSyntax.self)
        {
            return .notModule
        }
        // `some P` / `any P` with a protocol declared here: P has no Module.forward.
        if let existential = type.as(SomeOrAnyTypeSyntax.self), let name = Self.simpleName(existential.constraint),
            declarations[name]?.allSatisfy({ $0.is(ProtocolDeclSyntax.self) }) == true
        {
            return .notModule
        }
        return .unknown
    }

    // MARK: Members

    /// Whether the file declares an enum `name` with the case `member`.
    func isEnumCase(_ name: String, _ member: String) -> Bool {
        (declarations[name] ?? []).contains { decl in
            decl.as(EnumDeclSyntax.self)?.memberBlock.members.contains { item in
                item.decl.as(EnumCaseDeclSyntax.self)?.elements.contains { $0.name.text == member } ?? false
            } ?? false
        }
    }

    /// The declared type of the stored property `member` of the type `name` (or of a
    /// superclass declared here); nil when the file declares none.
    func memberType(_ name: String, _ member: String, depth: Int = 0) -> ResolvedType? {
        for block in memberBlocks[name] ?? [] {
            for item in block.members {
                guard let variable = item.decl.as(VariableDeclSyntax.self) else { continue }
                if let type = bindingType(variable, member) { return type }
            }
        }
        if depth < 16, let parent = superclass(of: name) { return memberType(parent, member, depth: depth + 1) }
        return nil
    }

    /// The type of `name` if `variable` declares it: its annotation, else its initializer's type.
    func bindingType(_ variable: VariableDeclSyntax, _ name: String) -> ResolvedType? {
        for binding in variable.bindings {
            if let identifier = binding.pattern.as(IdentifierPatternSyntax.self), identifier.identifier.text == name {
                if let annotation = binding.typeAnnotation { return resolve(annotation.type) }
                if let value = binding.initializer?.value { return ExpressionTypes.literalOrConstruction(value) }
                return .unknown
            }
            if binding.pattern.is(TuplePatternSyntax.self),
                binding.pattern.tokens(viewMode: .sourceAccurate).contains(where: { $0.text == name })
            {
                return .unknown
            }
        }
        return nil
    }
}

/// The type of an expression from its shape alone.
enum ExpressionTypes {
    /// `Direction()` and `Foo<T>(...)` are values of the type they name; literals and
    /// closures are never modules; anything else is unknown here.
    static func literalOrConstruction(_ expression: ExprSyntax) -> ResolvedType {
        if let call = expression.as(FunctionCallExprSyntax.self) {
            var called = call.calledExpression
            if let member = called.as(MemberAccessExprSyntax.self), member.declName.baseName.text == "init", let base = member.base {
                called = base
            }
            if let generic = called.as(GenericSpecializationExprSyntax.self) { called = generic.expression }
            if let reference = called.as(DeclReferenceExprSyntax.self), reference.baseName.text.first?.isUppercase == true {
                return .named(reference.baseName.text)
            }
            return .unknown
        }
        if expression.is(IntegerLiteralExprSyntax.self) || expression.is(FloatLiteralExprSyntax.self)
            || expression.is(StringLiteralExprSyntax.self) || expression.is(BooleanLiteralExprSyntax.self)
            || expression.is(ArrayExprSyntax.self) || expression.is(DictionaryExprSyntax.self)
            || expression.is(ClosureExprSyntax.self)
        {
            return .notModule
        }
        return .unknown
    }
}

extension SyntaxProtocol {
    /// This node and every node below it, in source order.
    var allNodes: [Syntax] {
        var nodes: [Syntax] = []
        var stack: [Syntax] = [Syntax(self)]
        while let node = stack.popLast() {
            nodes.append(node)
            stack.append(contentsOf: node.children(viewMode: .sourceAccurate).reversed())
        }
        return nodes
    }
}
