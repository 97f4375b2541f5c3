import SwiftSyntax

/// The type of a receiver (`fc` in `fc.forward(x)`) at the place it is used, from the
/// declarations in scope: locals before the use, parameters, closure parameters, optional
/// bindings, the enclosing type's stored properties, globals.
struct Receivers {
    let types: FileTypes

    func type(of expression: ExprSyntax, depth: Int = 0) -> ResolvedType {
        guard depth < 16 else { return .unknown }
        if let chained = expression.as(OptionalChainingExprSyntax.self) { return type(of: chained.expression, depth: depth + 1) }
        if let forced = expression.as(ForceUnwrapExprSyntax.self) { return type(of: forced.expression, depth: depth + 1) }
        if let tried = expression.as(TryExprSyntax.self) { return type(of: tried.expression, depth: depth + 1) }
        if let awaited = expression.as(AwaitExprSyntax.self) { return type(of: awaited.expression, depth: depth + 1) }
        if let tuple = expression.as(TupleExprSyntax.self), tuple.elements.count == 1, tuple.elements.first!.label == nil {
            return type(of: tuple.elements.first!.expression, depth: depth + 1)
        }
        if let reference = expression.as(DeclReferenceExprSyntax.self), reference.argumentNames == nil {
            let name = reference.baseName.text
            if name == "self" { return enclosingType(of: Syntax(expression)).map(ResolvedType.named) ?? .unknown }
            let declared = declaredType(of: name, at: Syntax(expression), depth: depth) ?? .unknown
            if case .named(let typeName) = declared, let constraint = genericParameter(typeName, at: Syntax(expression)) {
                return constraint
            }
            return declared
        }
        if let member = expression.as(MemberAccessExprSyntax.self), let base = member.base,
            member.declName.argumentNames == nil
        {
            // `Direction.up`: a case of an enum declared here is a value of that enum.
            if let typeName = base.as(DeclReferenceExprSyntax.self)?.baseName.text,
                types.isEnumCase(typeName, member.declName.baseName.text)
            {
                return .named(typeName)
            }
            guard case .named(let owner) = type(of: base, depth: depth + 1) else { return .unknown }
            return types.memberType(owner, member.declName.baseName.text) ?? .unknown
        }
        return ExpressionTypes.literalOrConstruction(expression)
    }

    /// The name of the innermost type or extension around `node`.
    func enclosingType(of node: Syntax) -> String? {
        var current = node.parent
        while let node = current {
            if let decl = node.as(ClassDeclSyntax.self) { return decl.name.text }
            if let decl = node.as(StructDeclSyntax.self) { return decl.name.text }
            if let decl = node.as(EnumDeclSyntax.self) { return decl.name.text }
            if let decl = node.as(ActorDeclSyntax.self) { return decl.name.text }
            if let decl = node.as(ProtocolDeclSyntax.self) { return decl.name.text }
            if let decl = node.as(ExtensionDeclSyntax.self) { return FileTypes.simpleName(decl.extendedType) }
            current = node.parent
        }
        return nil
    }

    /// `T` in `func run<T: Stepper>(_ t: T)`: its constraint's type; no constraint at all means
    /// no members, so no `Module.forward`; a `where` clause naming `T` is not read (unknown).
    func genericParameter(_ name: String, at node: Syntax) -> ResolvedType? {
        var current = node.parent
        while let node = current {
            defer { current = node.parent }
            let clause: GenericParameterClauseSyntax?
            let whereClause: GenericWhereClauseSyntax?
            if let decl = node.as(FunctionDeclSyntax.self) {
                (clause, whereClause) = (decl.genericParameterClause, decl.genericWhereClause)
            } else if let decl = node.as(InitializerDeclSyntax.self) {
                (clause, whereClause) = (decl.genericParameterClause, decl.genericWhereClause)
            } else if let decl = node.as(ClassDeclSyntax.self) {
                (clause, whereClause) = (decl.genericParameterClause, decl.genericWhereClause)
            } else if let decl = node.as(StructDeclSyntax.self) {
                (clause, whereClause) = (decl.genericParameterClause, decl.genericWhereClause)
            } else {
                continue
            }
            guard let parameter = clause?.parameters.first(where: { $0.name.text == name }) else { continue }
            if whereClause?.requirements.contains(where: { $0.tokens(viewMode: .sourceAccurate).contains { $0.text == name } }) == true {
                return .unknown
            }
            return parameter.inheritedType.map(types.resolve) ?? .notModule
        }
        return nil
    }

    /// Whether `name` at `node` is a local: a parameter, local variable or function, closure
    /// parameter or binding of the enclosing code (not a member of the enclosing type).
    func isLocal(_ name: String, at node: Syntax) -> Bool {
        lookup(name, at: node, localsOnly: true) != nil
    }

    /// The type of the declaration `name` refers to at `node`; nil when nothing in the file declares it.
    func declaredType(of name: String, at node: Syntax, depth: Int) -> ResolvedType? {
        lookup(name, at: node, localsOnly: false, depth: depth)
    }

    private func lookup(_ name: String, at use: Syntax, localsOnly: Bool, depth: Int = 0) -> ResolvedType? {
        guard depth < 16 else { return .unknown }
        let position = use.position
        var child = use
        var current = use.parent
        while let node = current {
            defer {
                child = node
                current = node.parent
            }
            if let items = node.as(CodeBlockItemListSyntax.self) {
                var found: ResolvedType?
                // Only what is declared before the statement holding the use is in scope.
                for item in items {
                    if item.id == child.id || item.position >= position { break }
                    if let type = declaration(of: name, in: item.item, depth: depth) { found = type }
                }
                if let found { return found }
            } else if let closure = node.as(ClosureExprSyntax.self), let signature = closure.signature {
                if let parameters = signature.parameterClause?.as(ClosureShorthandParameterListSyntax.self),
                    parameters.contains(where: { $0.name.text == name })
                {
                    return .unknown
                }
                if let parameters = signature.parameterClause?.as(ClosureParameterClauseSyntax.self),
                    let parameter = parameters.parameters.first(where: { ($0.secondName ?? $0.firstName).text == name })
                {
                    return parameter.type.map(types.resolve) ?? .unknown
                }
            } else if let function = node.as(FunctionDeclSyntax.self) {
                if let type = parameter(name, function.signature.parameterClause) { return type }
            } else if let initializer = node.as(InitializerDeclSyntax.self) {
                if let type = parameter(name, initializer.signature.parameterClause) { return type }
            } else if let subscriptDecl = node.as(SubscriptDeclSyntax.self) {
                if let type = parameter(name, subscriptDecl.parameterClause) { return type }
            } else if let conditions = node.as(IfExprSyntax.self)?.conditions ?? node.as(WhileStmtSyntax.self)?.conditions,
                conditions.id != child.id
            {
                if let type = binding(of: name, in: conditions, depth: depth) { return type }
            } else if let loop = node.as(ForStmtSyntax.self), child.id == loop.body.id,
                loop.pattern.tokens(viewMode: .sourceAccurate).contains(where: { $0.text == name })
            {
                return .unknown
            } else if let switchCase = node.as(SwitchCaseSyntax.self),
                switchCase.label.tokens(viewMode: .sourceAccurate).contains(where: { $0.text == name })
            {
                return .unknown
            } else if node.is(MemberBlockSyntax.self) {
                if localsOnly { return nil }
                if let owner = enclosingType(of: Syntax(child)), let type = types.memberType(owner, name) { return type }
            }
        }
        return nil
    }

    private func parameter(_ name: String, _ clause: FunctionParameterClauseSyntax) -> ResolvedType? {
        clause.parameters.first { ($0.secondName ?? $0.firstName).text == name }.map { types.resolve($0.type) }
    }

    /// `let d = Direction()`, `var c: Cursor`, `func d()`, `guard let d = ...` declaring `name`.
    private func declaration(of name: String, in item: CodeBlockItemSyntax.Item, depth: Int) -> ResolvedType? {
        if let variable = item.as(DeclSyntax.self)?.as(VariableDeclSyntax.self) {
            for binding in variable.bindings {
                guard let identifier = binding.pattern.as(IdentifierPatternSyntax.self) else {
                    if binding.pattern.tokens(viewMode: .sourceAccurate).contains(where: { $0.text == name }) { return .unknown }
                    continue
                }
                guard identifier.identifier.text == name else { continue }
                if let annotation = binding.typeAnnotation { return types.resolve(annotation.type) }
                if let value = binding.initializer?.value { return type(of: value, depth: depth + 1) }
                return .unknown
            }
        } else if let function = item.as(DeclSyntax.self)?.as(FunctionDeclSyntax.self), function.name.text == name {
            return .notModule
        } else if let guardStatement = item.as(StmtSyntax.self)?.as(GuardStmtSyntax.self) {
            return binding(of: name, in: guardStatement.conditions, depth: depth)
        }
        return nil
    }

    /// `if let d = x`, `if case .some(let d) = x`, `while let d = ...`.
    private func binding(of name: String, in conditions: ConditionElementListSyntax, depth: Int) -> ResolvedType? {
        for condition in conditions {
            if let optional = condition.condition.as(OptionalBindingConditionSyntax.self),
                optional.pattern.tokens(viewMode: .sourceAccurate).contains(where: { $0.text == name })
            {
                if let annotation = optional.typeAnnotation { return types.resolve(annotation.type) }
                if let value = optional.initializer?.value { return type(of: value, depth: depth + 1) }
                return declaredType(of: name, at: Syntax(condition), depth: depth + 1) ?? .unknown  // `if let d`
            }
            if let match = condition.condition.as(MatchingPatternConditionSyntax.self),
                match.pattern.tokens(viewMode: .sourceAccurate).contains(where: { $0.text == name })
            {
                return .unknown
            }
        }
        return nil
    }
}
