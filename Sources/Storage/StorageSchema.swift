import GRDB

/// One subsystem's tables in `pbxd.sqlite`, as an ordered list of named migrations.
///
/// Identifiers are global across subsystems (they share GRDB's `grdb_migrations` table), so
/// prefix them with the subsystem: `cdr.1-create`, `queue_log.1-create`, `webhook.1-outbox`.
/// A migration, once released, is never edited: change a table by appending a migration.
///
/// ```swift
/// var schema = StorageSchema(name: "queue_log")
/// schema.migration("queue_log.1-create") { db in
///     try db.execute(sql: "CREATE TABLE queue_log (id INTEGER PRIMARY KEY AUTOINCREMENT, ...)")
/// }
/// try storage.install(schema)
/// ```
public struct StorageSchema: Sendable {
    public struct Migration: Sendable {
        public var identifier: String
        public var apply: @Sendable (Database) throws -> Void
    }

    /// Names the subsystem in error messages.
    public var name: String
    public private(set) var migrations: [Migration] = []

    public init(name: String) {
        self.name = name
    }

    /// Appends a migration; they run in the order added, each in its own transaction.
    public mutating func migration(_ identifier: String, _ apply: @escaping @Sendable (Database) throws -> Void) {
        migrations.append(Migration(identifier: identifier, apply: apply))
    }
}
