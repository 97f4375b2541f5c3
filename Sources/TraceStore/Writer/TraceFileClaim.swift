import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A writer's exclusive claim on a trace file for one run: an advisory `flock` on the file
/// itself, which every Tracewell writer takes before it touches the file and readers ignore.
///
/// The descriptor holding the lock is never closed while the file is in use: closing any
/// descriptor of a file drops every POSIX lock the process holds on it, SQLite's included.
/// So descriptors are kept per path and reused; releasing a claim only unlocks.
final class TraceFileClaim {
    private let fd: Int32
    private let path: String
    private var held = true

    private struct Entry { var fd: Int32, device: UInt64, inode: UInt64, claimed = false }
    private static let descriptors = Mutex<[String: Entry]>([:])

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Claims `path` (creating an empty file if there is none), or nil when another process holds it.
    static func claim(_ path: String) throws -> TraceFileClaim? {
        try descriptors.withLock { table in
            var st = stat()
            if let entry = table[path] {
                if stat(path, &st) == 0, UInt64(st.st_dev) == entry.device, UInt64(st.st_ino) == entry.inode {
                    // Another writer of this process holds it (flock would not tell: same descriptor).
                    guard !entry.claimed else { return nil }
                    let claim = try lock(entry.fd, path)
                    table[path]?.claimed = claim != nil
                    return claim
                }
                // The file was replaced: the old descriptor refers to a file no longer in use
                // (kept open while a writer still holds it).
                if !entry.claimed { close(entry.fd) }
                table[path] = nil
            }
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw StoreError("cannot create \(path): \(String(cString: strerror(errno)))") }
            guard fstat(fd, &st) == 0 else {
                close(fd)
                throw StoreError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            let claim = try lock(fd, path)
            table[path] = Entry(fd: fd, device: UInt64(st.st_dev), inode: UInt64(st.st_ino), claimed: claim != nil)
            return claim
        }
    }

    private static func lock(_ fd: Int32, _ path: String) throws -> TraceFileClaim? {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return TraceFileClaim(fd: fd, path: path) }
        if errno == EWOULDBLOCK { return nil }
        throw StoreError("cannot lock \(path): \(String(cString: strerror(errno)))")
    }

    /// Lets other writers take the file.
    func release() {
        guard held else { return }
        held = false
        TraceFileClaim.descriptors.withLock { table in
            flock(fd, LOCK_UN)
            if table[path]?.fd == fd { table[path]?.claimed = false }
        }
    }

    deinit { release() }

    /// Claims `path`, or the first free `name-N.ext` beside it when another process is writing
    /// `path`; the notice says so in one line.
    static func claimOrMoveAside(_ path: String) throws -> (path: String, claim: TraceFileClaim, notice: String?) {
        if let claim = try claim(path) { return (path, claim, nil) }
        let dot = path.lastIndex(of: ".").flatMap { path[$0...].contains("/") ? nil : $0 }
        let stem = dot.map { String(path[..<$0]) } ?? path
        let ext = dot.map { String(path[$0...]) } ?? ""
        for n in 2...999 {
            let candidate = "\(stem)-\(n)\(ext)"
            if access(candidate, F_OK) == 0 { continue }
            if let claim = try claim(candidate) {
                return (candidate, claim, "\(path) is being written by another process; this run is traced to \(candidate)")
            }
        }
        throw StoreError("\(path) is being written by another process, and so is every \(stem)-N\(ext) beside it")
    }
}
