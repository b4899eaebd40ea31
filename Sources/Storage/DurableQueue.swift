import Foundation
import GRDB

/// A first-in first-out spool in `pbxd.sqlite`: the outbox pattern. A producer enqueues in the
/// same transaction as its own row (so the row and its pending delivery commit together); a
/// deliverer reads the oldest entries, hands them to the remote side (PostgreSQL, a CRM), and
/// removes them only once the remote side has them. A crash in between redelivers, so the
/// remote write must be idempotent for "no duplicates"; the order is always the enqueue order.
///
/// All queues share one table (`storage_queue`), told apart by `name` (`cdr:pgsql`, …).
public struct DurableQueue: Sendable, Hashable {
    public let name: String

    public init(name: String) {
        self.name = name
    }

    /// One spooled payload; `id` grows with enqueue order.
    public struct Entry: Sendable, Equatable {
        public var id: Int64
        public var payload: Data
        public var enqueuedAt: Double
    }

    /// The shared table; install it once (`storage.install(DurableQueue.schema)`) before use.
    public static let schema: StorageSchema = {
        var schema = StorageSchema(name: "storage_queue")
        schema.migration("storage_queue.1-create") { db in
            try db.execute(sql: """
                CREATE TABLE storage_queue (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    enqueued_at REAL NOT NULL
                );
                CREATE INDEX storage_queue_by_name ON storage_queue(name, id);
                """)
        }
        return schema
    }()

    /// Adds `payload` at the tail, inside the caller's transaction.
    public func enqueue(_ payload: Data, in db: Database, now: Double = Date().timeIntervalSince1970) throws {
        try db.execute(
            sql: "INSERT INTO storage_queue (name, payload, enqueued_at) VALUES (?, ?, ?)",
            arguments: [name, payload, now])
    }

    /// Up to `limit` entries from the head, oldest first.
    public func head(limit: Int, in db: Database) throws -> [Entry] {
        try Row.fetchAll(
            db, sql: "SELECT id, payload, enqueued_at FROM storage_queue WHERE name = ? ORDER BY id LIMIT ?",
            arguments: [name, limit]
        ).map { Entry(id: $0["id"], payload: $0["payload"], enqueuedAt: $0["enqueued_at"]) }
    }

    /// Removes every entry up to and including `id` (the deliverer's acknowledgement).
    public func remove(through id: Int64, in db: Database) throws {
        try db.execute(sql: "DELETE FROM storage_queue WHERE name = ? AND id <= ?", arguments: [name, id])
    }

    public func count(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM storage_queue WHERE name = ?", arguments: [name]) ?? 0
    }
}
