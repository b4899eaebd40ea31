import Foundation

/// Asterisk's key/value database (`astdb`: `DB()`, `DB_EXISTS()`, `DB_DELETE()`, `database
/// show`) as the `astdb` table of pbxd.sqlite: one row per `/family/key`, primary key
/// (family, key). Every change is its own committed, fsynced transaction (Storage's
/// synchronous=FULL), so a `put` that returned survives `kill -9` and power loss.
///
/// The plain family/key API lives here because Storage imports nothing of the switch; pbxd
/// declares the Dialplan `AstDB` conformance, whose method shapes these match.
public final class AstDBStore: Sendable {
    private let storage: Storage

    /// The file of pbxd's first, JSON-based AstDB in the data directory; imported once.
    public static let legacyFileName = "astdb.json"
    /// What the legacy file is renamed to once its keys are in the table.
    public static let importedFileName = "astdb.json.imported"

    public static let schema: StorageSchema = {
        var schema = StorageSchema(name: "astdb")
        schema.migration("astdb.1-create") { db in
            try db.execute(sql: """
                CREATE TABLE astdb (
                    family TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (family, key)
                ) WITHOUT ROWID;
                """)
        }
        return schema
    }()

    /// Creates the table when missing.
    public init(storage: Storage) throws {
        try storage.install(Self.schema)
        self.storage = storage
    }

    public func get(family: String, key: String) async throws -> String? {
        try await storage.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM astdb WHERE family = ? AND key = ?", arguments: [family, key])
        }
    }

    /// Sets (or replaces) the value; returns once it is committed to disk.
    public func put(family: String, key: String, value: String) async throws {
        try await storage.write { db in
            try Self.upsert(family: family, key: key, value: value, in: db)
        }
    }

    /// Removes the key; returns whether it existed.
    @discardableResult
    public func delete(family: String, key: String) async throws -> Bool {
        try await storage.write { db in
            try db.execute(sql: "DELETE FROM astdb WHERE family = ? AND key = ?", arguments: [family, key])
            return db.changesCount > 0
        }
    }

    /// Every key of `family`, sorted by key.
    public func entries(family: String) async throws -> [(key: String, value: String)] {
        try await storage.read { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM astdb WHERE family = ? ORDER BY key", arguments: [family])
                .map { (key: $0["key"] as String, value: $0["value"] as String) }
        }
    }

    /// The families that have keys, sorted.
    public func families() async throws -> [String] {
        try await storage.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT family FROM astdb ORDER BY family")
        }
    }

    /// Imports `<directory>/astdb.json` (the JSON store pbxd used before SQLite,
    /// `{"families": {family: {key: value}}}`) in one transaction, then renames it to
    /// `astdb.json.imported` so it is never imported again. Its values replace keys of the same
    /// name. Returns how many keys were imported; nil when there is no such file.
    ///
    /// A file that cannot be read as an AstDB is an error and is left in place: starting
    /// without the operator's keys would silently lose them.
    @discardableResult
    public func importLegacyFile(directory: String) throws -> Int? {
        let path = (directory as NSString).appendingPathComponent(Self.legacyFileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let families: [String: [String: String]]
        do {
            families = try JSONDecoder().decode(LegacyFile.self, from: Data(contentsOf: URL(fileURLWithPath: path))).families
        } catch {
            throw StorageError("\(path) is not a valid AstDB file, not imported: \(error)")
        }
        try storage.writeNow { db in
            for (family, keys) in families {
                for (key, value) in keys {
                    try Self.upsert(family: family, key: key, value: value, in: db)
                }
            }
        }
        // Committed first: a crash before the rename imports the same keys again next start.
        let imported = (directory as NSString).appendingPathComponent(Self.importedFileName)
        do {
            if FileManager.default.fileExists(atPath: imported) { try FileManager.default.removeItem(atPath: imported) }
            try FileManager.default.moveItem(atPath: path, toPath: imported)
        } catch {
            throw StorageError("imported \(path) but cannot rename it to \(imported): \(error.localizedDescription)")
        }
        return families.values.reduce(0) { $0 + $1.count }
    }

    private struct LegacyFile: Decodable {
        var families: [String: [String: String]]
    }

    private static func upsert(family: String, key: String, value: String, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO astdb (family, key, value) VALUES (?, ?, ?) ON CONFLICT (family, key) DO UPDATE SET value = excluded.value",
            arguments: [family, key, value])
    }
}
