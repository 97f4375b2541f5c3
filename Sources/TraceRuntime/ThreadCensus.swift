#if canImport(Glibc)
    import Glibc
#endif

/// The threads of this process, as the kernel lists them.
enum ThreadCensus {
    /// Kernel thread ids from `/proc/self/task` (empty where there is no procfs).
    static func threadIDs() -> Set<Int32> {
        guard let dir = opendir("/proc/self/task") else { return [] }
        defer { closedir(dir) }
        var ids: Set<Int32> = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let id = Int32(name) { ids.insert(id) }
        }
        return ids
    }
}
