import Foundation

/// A PostgreSQL server of the test's own: `initdb` in a temporary directory, listening on
/// 127.0.0.1 at a free port with trust authentication; run as the `postgres` system user when
/// the tests run as root (initdb refuses root). `start()` returns nil with the reason when no
/// server can be started here, and the caller skips.
final class LocalPostgres {
    let root: String
    let port: Int
    private let binDirectory: String
    private let asPostgresUser: Bool
    private var running = false

    static func make() -> Result<LocalPostgres, SkipReason> {
        let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }) else {
            return .failure(SkipReason("no PostgreSQL server binaries (apt package postgresql)"))
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/psql") else {
            return .failure(SkipReason("no psql client"))
        }
        let root = NSTemporaryDirectory() + "pbxd-pg-\(UUID().uuidString)"
        let server = LocalPostgres(root: root, port: Self.freePort(), binDirectory: bin, asPostgresUser: getuid() == 0)
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            if server.asPostgresUser {
                guard let user = getpwnam("postgres") else { return .failure(SkipReason("root, and no postgres user to run the server as")) }
                chown(root, user.pointee.pw_uid, user.pointee.pw_gid)
            }
            try server.run([bin + "/initdb", "-D", root + "/data", "-A", "trust", "-U", "postgres", "--no-sync"])
            try server.start()
        } catch {
            server.close()
            return .failure(SkipReason("cannot start a local PostgreSQL: \(error)"))
        }
        return .success(server)
    }

    private init(root: String, port: Int, binDirectory: String, asPostgresUser: Bool) {
        self.root = root
        self.port = port
        self.binDirectory = binDirectory
        self.asPostgresUser = asPostgresUser
    }

    func start() throws {
        try run([binDirectory + "/pg_ctl", "-D", root + "/data", "-l", root + "/server.log", "-w", "-t", "30",
                 "-o", "-p \(port) -k \(root) -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
        running = true
    }

    func stop() throws {
        guard running else { return }
        try run([binDirectory + "/pg_ctl", "-D", root + "/data", "-m", "fast", "-w", "-t", "30", "stop"])
        running = false
    }

    func close() {
        try? stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Rows of `sql`, fields separated by `|`, through psql.
    func query(_ sql: String) throws -> [String] {
        let output = try run(["/usr/bin/psql", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-X", "-A", "-t",
                              "-v", "ON_ERROR_STOP=1", "-c", sql], asServerUser: false)
        return output.split(separator: "\n").map(String.init)
    }

    /// Polls `sql` until it returns `count` rows or `timeout` passes.
    func waitForRows(_ sql: String, count: Int, timeout: Duration) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        var rows: [String] = []
        while ContinuousClock.now < deadline {
            rows = (try? query(sql)) ?? []
            if rows.count >= count { return rows }
            try await Task.sleep(for: .milliseconds(100))
        }
        return rows
    }

    /// Runs a command to completion with posix_spawn + waitpid, its output in a file: the
    /// server that `pg_ctl start` leaves behind inherits that file, not a pipe we would wait on
    /// (and Foundation's Process.waitUntilExit does not return here for a detached child).
    @discardableResult
    private func run(_ arguments: [String], asServerUser: Bool = true) throws -> String {
        let prefix = asServerUser && asPostgresUser ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        let command = prefix + arguments
        let outputPath = NSTemporaryDirectory() + "pbxd-pg-output-\(UUID().uuidString)"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, command[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { throw SkipReason("cannot run \(command[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0 && (status >> 8) & 0xff == 0
        guard exited else {
            throw SkipReason("\(arguments[0]) failed (wait status \(status)): \(text.suffix(500))")
        }
        return text
    }

    private static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct SkipReason: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
