#if canImport(Glibc)
    import Glibc
#endif

/// Text to stderr without Foundation (the tracing core has no dependencies).
package enum StandardError {
    package static func write(_ text: String) {
        var t = text
        t.withUTF8 { buf in _ = Glibc.write(2, buf.baseAddress, buf.count) }
    }
}
