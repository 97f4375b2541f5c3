import Synchronization

#if canImport(Runtime)
    import Runtime
#endif

/// Where user code called into the runtime: the first frame outside the runtime's own modules.
package struct CallSite: Sendable, Equatable, CustomStringConvertible {
    /// The source file, as the compiler recorded it in the debug information (an absolute path).
    package var file: String
    /// The 1-based line of the call.
    package var line: Int
    /// The demangled name of the calling function.
    package var function: String

    package init(file: String, line: Int, function: String) {
        self.file = file
        self.line = line
        self.function = function
    }

    /// `file:line`.
    package var description: String { "\(file):\(line)" }
}

/// Source locations of callers, from the toolchain's `Runtime` module (SE-0419 backtraces).
///
/// Capturing costs microseconds; symbolicating a call path not seen before reads the binary's
/// DWARF and costs tens of milliseconds in a small binary and seconds in a big debug one (a
/// test bundle), so callers ask once per finding, not once per call, and never on a hot path.
/// It needs the binary's line tables: SwiftPM emits them in debug and release builds (`-g`);
/// a stripped binary gives nil.
package enum CallSites {
    /// Modules whose frames are the runtime's own, not the user's.
    static let runtimeModules: Set<String> = [
        "Modules", "Tensors", "TraceRuntime", "TraceEvents", "Profiler", "Distributed", "Runtime", "Swift", "_Concurrency",
        "Foundation", "FoundationEssentials", "Dispatch", "Synchronization",
    ]

    /// Captures the current backtrace and returns the first frame whose symbol is not in
    /// Modules/Tensors/TraceRuntime/Profiler/Swift runtime (skipping `skip` more frames),
    /// symbolicated; nil when there is no debug information.
    @inline(never)
    package static func caller(skip: Int = 0) -> CallSite? {
        #if canImport(Runtime)
            if #available(macOS 26.0, *) {
                return find(skip: skip)
            }
        #endif
        return nil
    }

    #if canImport(Runtime)
        /// The process's images, read once for unwinding.
        @available(macOS 26.0, *)
        static let keptImages = ImageMap.capture()

        /// The answer for each call path seen (its return addresses and `skip`): capturing costs
        /// microseconds, symbolicating milliseconds to seconds (it reads the binary's DWARF each time).
        @available(macOS 26.0, *)
        static let answers = Mutex<[PathKey: CallSite?]>([:])

        @available(macOS 26.0, *)
        struct PathKey: Hashable {
            var addresses: [Backtrace.Address]
            var skip: Int
        }

        @available(macOS 26.0, *)
        @inline(never)
        static func find(skip: Int) -> CallSite? {
            // Without `images` each capture reads the process's image list (~0.25 ms, 50 times the
            // unwinding); the kept list serves unwinding, and a new path symbolicates with a fresh one.
            guard let backtrace = try? Backtrace.capture(algorithm: .precise, limit: 64, top: 0, images: keptImages) else { return nil }
            let key = PathKey(addresses: backtrace.frames.prefix(32).map(\.adjustedProgramCounter), skip: skip)
            if let known = answers.withLock({ $0[key] }) { return known }
            let site = firstUserFrame(backtrace, skip: skip, images: ImageMap.capture())
            answers.withLock { answers in
                if answers.count >= 4096 { answers.removeAll() }
                answers[key] = site
            }
            return site
        }

        @available(macOS 26.0, *)
        static func firstUserFrame(_ backtrace: Backtrace, skip: Int, images: ImageMap) -> CallSite? {
            guard let symbolicated = backtrace.symbolicated(with: images, options: [.showInlineFrames, .showSourceLocations])
            else { return nil }
            var remaining = skip
            for frame in symbolicated.frames {
                guard let symbol = frame.symbol else { continue }
                // vtable and reabstraction thunks are the compiler's: `<compiler-generated>` (line 0 in
                // debug builds, some line in release builds).
                if frame.isSwiftThunk || isRuntime(symbol) || symbol.sourceLocation?.line == 0
                    || symbol.sourceLocation?.path.hasSuffix("<compiler-generated>") == true
                {
                    continue
                }
                if remaining > 0 {
                    remaining -= 1
                    continue
                }
                guard let location = symbol.sourceLocation else { return nil }
                return CallSite(file: location.path, line: location.line, function: symbol.name)
            }
            return nil
        }

        /// Whether a symbol belongs to the runtime: a Swift symbol of one of `runtimeModules`, a
        /// symbol of the Swift runtime or a system library, or one of CTracing's `ct_` functions.
        @available(macOS 26.0, *)
        static func isRuntime(_ symbol: SymbolicatedBacktrace.Symbol) -> Bool {
            if let module = swiftModule(ofMangled: symbol.rawName) { return runtimeModules.contains(module) }
            if symbol.rawName.hasPrefix("swift_") || symbol.rawName.hasPrefix("ct_") || symbol.isSystemFunction { return true }
            let image = symbol.imageName
            return image.hasPrefix("libswift") || image.hasPrefix("libc.") || image.hasPrefix("ld-linux")
                || image.hasPrefix("libFoundation")
        }
    #endif

    /// The module of a mangled Swift symbol (`$s7Modules6ModuleC…` is `Modules`); `Swift` for
    /// the standard library's substitutions (`$ss…`, `$sS…`); nil for a C symbol.
    static func swiftModule(ofMangled name: String) -> String? {
        var rest = Substring(name)
        for prefix in ["_$s", "$s", "_T0", "$S", "_$S"] where rest.hasPrefix(prefix) {
            rest = rest.dropFirst(prefix.count)
            guard let first = rest.first else { return nil }
            if first == "s" || first == "S" { return "Swift" }
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard let length = Int(digits), length > 0 else { return nil }
            let identifier = rest.dropFirst(digits.count).prefix(length)
            return identifier.count == length ? String(identifier) : nil
        }
        return nil
    }
}
