@_exported import GRDB
import Foundation
import Logging

/// pbxd's embedded database, `<datadir>/pbxd.sqlite` (DESIGN.md §6): CDRs, the CDR spool,
/// queue_log, webhook outboxes — everything that must survive a restart lives in this one file.
/// GRDB is re-exported, so a subsystem that keeps a table here needs only `import Storage`.
///
/// Durability policy: WAL journal with `synchronous = FULL`. In WAL mode FULL makes every
/// commit fsync the WAL before `write` returns, so a committed row survives `kill -9` *and* an
/// OS crash or power cut. (`NORMAL` would survive `kill -9` too — the WAL sits in the page
/// cache — but could lose the last commits on power loss; "a record is written before it counts
/// as done" should not depend on which kind of crash happens.) The price is one fsync per
/// transaction: callers under load batch several rows into one `write` (the CDR writer does).
public final class Storage: Sendable {
    /// The database file (`…/pbxd.sqlite`).
    public let path: String
    private let pool: DatabasePool
    private let logger: Logger

    /// The file name inside the data directory.
    public static let fileName = "pbxd.sqlite"

    /// Opens (creating when missing) `pbxd.sqlite` in `directory`, in WAL mode with
    /// `synchronous = FULL`.
    public convenience init(directory: String, logger: Logger = Logger(label: "pbxd.storage")) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError("cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        try self.init(path: (directory as NSString).appendingPathComponent(Self.fileName), logger: logger)
    }

    /// Opens the database at `path` (tests and tools that name the file themselves).
    public init(path: String, logger: Logger = Logger(label: "pbxd.storage")) throws {
        var configuration = Configuration()
        configuration.label = "pbxd.storage"
        // Readers never block the writer in WAL mode; a writer waits for another writer
        // (a second pbxd process, sqlite3 in a shell) for up to 5 s instead of failing at once.
        configuration.busyMode = .timeout(5)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // After the pool's own WAL set-up, which chooses NORMAL. Only the single writer
            // connection commits, and it lives as long as the pool, so setting it once holds.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw StorageError("cannot open \(path): \(error)")
        }
        self.path = path
        self.logger = logger
    }

    /// Creates or upgrades one subsystem's tables. Each subsystem brings its own schema, applied
    /// whenever it starts; migrations already applied (by any subsystem) are skipped.
    public func install(_ schema: StorageSchema) throws {
        var migrator = DatabaseMigrator()
        for migration in schema.migrations {
            migrator.registerMigration(migration.identifier, migrate: migration.apply)
        }
        do {
            try migrator.migrate(pool)
        } catch {
            throw StorageError("migrating \(schema.name) in \(path) failed: \(error)")
        }
    }

    /// Runs `updates` in one transaction. When this returns, the transaction is committed and
    /// fsynced (see the durability policy above); when it throws, nothing of it was kept.
    public func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.write(updates)
    }

    /// The blocking form of `write`, for start-up code and tests outside async contexts.
    public func writeNow<T>(_ updates: (Database) throws -> T) throws -> T {
        try pool.write(updates)
    }

    /// Reads a consistent snapshot (never blocked by the writer in WAL mode).
    public func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(value)
    }

    /// The blocking form of `read`.
    public func readNow<T>(_ value: (Database) throws -> T) throws -> T {
        try pool.read(value)
    }

    /// Folds the WAL back into the main file (also done automatically every 1000 pages);
    /// pbxd calls it on shutdown so the file is self-contained for backups.
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in
            _ = try db.checkpoint(.truncate)
        }
    }
}

/// A storage failure with the file and the reason.
public struct StorageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
