import Foundation
import Storage
import Testing

/// A fresh data directory per test, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let directory = NSTemporaryDirectory() + "pbxd-storage-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try body(directory)
}

@Suite("Storage")
struct StorageTests {
    @Test("opens pbxd.sqlite in the data directory in WAL mode with synchronous=FULL")
    func durabilitySettings() throws {
        try withTemporaryDirectory { directory in
            let storage = try Storage(directory: directory + "/nested")
            #expect(storage.path == directory + "/nested/pbxd.sqlite")
            let journal = try storage.readNow { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(journal == "wal")
            // The writer connection is the one that commits (and fsyncs).
            let synchronous = try storage.writeNow { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
            #expect(synchronous == 2)  // FULL
        }
    }

    @Test("each subsystem installs its own migrations once; reopening keeps the rows")
    func migrationsPerSubsystem() throws {
        try withTemporaryDirectory { directory in
            var first = StorageSchema(name: "alpha")
            first.migration("alpha.1") { db in try db.execute(sql: "CREATE TABLE alpha (v TEXT)") }
            var second = StorageSchema(name: "beta")
            second.migration("beta.1") { db in try db.execute(sql: "CREATE TABLE beta (v TEXT)") }
            do {
                let storage = try Storage(directory: directory)
                try storage.install(first)
                try storage.install(second)
                try storage.writeNow { db in try db.execute(sql: "INSERT INTO alpha VALUES ('kept')") }
            }
            let reopened = try Storage(directory: directory)
            // Installing again is a no-op (CREATE TABLE would fail if it ran twice).
            try reopened.install(first)
            first.migration("alpha.2") { db in try db.execute(sql: "ALTER TABLE alpha ADD COLUMN w TEXT") }
            try reopened.install(first)
            let values = try reopened.readNow { db in try String.fetchAll(db, sql: "SELECT v FROM alpha") }
            #expect(values == ["kept"])
            let columns = try reopened.readNow { db in try db.columns(in: "alpha").map(\.name) }
            #expect(columns == ["v", "w"])
        }
    }

    @Test("a failing migration reports the subsystem and keeps nothing of itself")
    func failingMigration() throws {
        try withTemporaryDirectory { directory in
            let storage = try Storage(directory: directory)
            var broken = StorageSchema(name: "broken")
            broken.migration("broken.1") { db in
                try db.execute(sql: "CREATE TABLE half (v TEXT)")
                try db.execute(sql: "THIS IS NOT SQL")
            }
            #expect {
                try storage.install(broken)
            } throws: { error in
                "\(error)".contains("migrating broken")
            }
            let exists = try storage.readNow { db in try db.tableExists("half") }
            #expect(!exists)
        }
    }

    @Test("an unopenable path is a clear error, not a crash")
    func unopenablePath() {
        #expect {
            _ = try Storage(path: "/proc/definitely/not/here/pbxd.sqlite")
        } throws: { error in
            "\(error)".contains("cannot open /proc/definitely/not/here/pbxd.sqlite")
        }
    }
}

@Suite("DurableQueue")
struct DurableQueueTests {
    @Test("entries come back in enqueue order per queue, and removal acknowledges a prefix")
    func order() throws {
        try withTemporaryDirectory { directory in
            let storage = try Storage(directory: directory)
            try storage.install(DurableQueue.schema)
            let pg = DurableQueue(name: "cdr:pgsql"), other = DurableQueue(name: "other")
            try storage.writeNow { db in
                for i in 0..<5 {
                    try pg.enqueue(Data("pg\(i)".utf8), in: db)
                    try other.enqueue(Data("o\(i)".utf8), in: db)
                }
            }
            let head = try storage.readNow { db in try pg.head(limit: 3, in: db) }
            #expect(head.map { String(decoding: $0.payload, as: UTF8.self) } == ["pg0", "pg1", "pg2"])
            try storage.writeNow { db in try pg.remove(through: head[1].id, in: db) }
            let rest = try storage.readNow { db in try pg.head(limit: 10, in: db) }
            #expect(rest.map { String(decoding: $0.payload, as: UTF8.self) } == ["pg2", "pg3", "pg4"])
            #expect(try storage.readNow { db in try other.count(in: db) } == 5)
        }
    }

    @Test("an entry enqueued in a transaction that rolls back is not spooled")
    func rollback() throws {
        try withTemporaryDirectory { directory in
            let storage = try Storage(directory: directory)
            try storage.install(DurableQueue.schema)
            let queue = DurableQueue(name: "q")
            struct Abort: Error {}
            #expect(throws: Abort.self) {
                try storage.writeNow { db in
                    try queue.enqueue(Data("x".utf8), in: db)
                    throw Abort()
                }
            }
            #expect(try storage.readNow { db in try queue.count(in: db) } == 0)
        }
    }
}
