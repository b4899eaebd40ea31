import Foundation
import Storage
import Testing

@Suite("AstDBStore")
struct AstDBStoreTests {
    @Test("put, get, replace, delete, entries and families")
    func keysAndFamilies() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let db = try AstDBStore(storage: Storage(directory: directory))
            try await db.put(family: "cf", key: "1002", value: "5550000")
            try await db.put(family: "cf", key: "1001", value: "5551234")
            try await db.put(family: "night", key: "mode", value: "on")
            try await db.put(family: "night", key: "mode", value: "off")
            #expect(try await db.get(family: "night", key: "mode") == "off")
            #expect(try await db.get(family: "night", key: "missing") == nil)
            #expect(try await db.get(family: "cf2", key: "1001") == nil)
            #expect(try await db.entries(family: "cf").map(\.key) == ["1001", "1002"])
            #expect(try await db.entries(family: "cf").map(\.value) == ["5551234", "5550000"])
            #expect(try await db.families() == ["cf", "night"])
            #expect(try await db.delete(family: "cf", key: "1002"))
            #expect(try await !db.delete(family: "cf", key: "1002"))
            #expect(try await db.delete(family: "night", key: "mode"))
            #expect(try await db.families() == ["cf"])
            #expect(try await db.entries(family: "night").isEmpty)
        }
    }

    @Test("a put is in the file when it returns: a reopened database reads it")
    func persistsAcrossReopen() async throws {
        try await withTemporaryDirectoryAsync { directory in
            do {
                let db = try AstDBStore(storage: Storage(directory: directory))
                try await db.put(family: "blacklist", key: "5559999", value: "1")
                try await db.put(family: "cf", key: "1001", value: "5551234")
                try await db.delete(family: "cf", key: "1001")
            }
            let reopened = try AstDBStore(storage: Storage(directory: directory))
            #expect(try await reopened.get(family: "blacklist", key: "5559999") == "1")
            #expect(try await reopened.families() == ["blacklist"])
            // sqlite3 (and reporting tools) see the same rows.
            let rows = try Storage(directory: directory).readNow { db in
                try Row.fetchAll(db, sql: "SELECT family, key, value FROM astdb").map { "\($0[0] as String)/\($0[1] as String)=\($0[2] as String)" }
            }
            #expect(rows == ["blacklist/5559999=1"])
        }
    }

    @Test("astdb.json is imported once and renamed; an existing key takes its value")
    func importsTheJSONFileOnce() async throws {
        try await withTemporaryDirectoryAsync { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let json = #"{"families":{"cf":{"1001":"5551234","1002":"5550000"},"night":{"mode":"on"}}}"#
            try json.write(toFile: directory + "/astdb.json", atomically: true, encoding: .utf8)
            let db = try AstDBStore(storage: Storage(directory: directory))
            try await db.put(family: "night", key: "mode", value: "off")
            try await db.put(family: "other", key: "k", value: "v")
            #expect(try db.importLegacyFile(directory: directory) == 3)
            #expect(!FileManager.default.fileExists(atPath: directory + "/astdb.json"))
            #expect(try String(contentsOfFile: directory + "/astdb.json.imported", encoding: .utf8) == json)
            #expect(try await db.get(family: "night", key: "mode") == "on")
            #expect(try await db.get(family: "other", key: "k") == "v")
            #expect(try await db.entries(family: "cf").map(\.value) == ["5551234", "5550000"])
            // Nothing left to import: later starts leave the table alone.
            try await db.put(family: "cf", key: "1001", value: "changed")
            #expect(try db.importLegacyFile(directory: directory) == nil)
            #expect(try await db.get(family: "cf", key: "1001") == "changed")
        }
    }

    @Test("a corrupt astdb.json is an error and stays in place, nothing imported")
    func corruptJSONIsAnError() async throws {
        try await withTemporaryDirectoryAsync { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "{ not json".write(toFile: directory + "/astdb.json", atomically: true, encoding: .utf8)
            let db = try AstDBStore(storage: Storage(directory: directory))
            #expect {
                try db.importLegacyFile(directory: directory)
            } throws: { error in
                "\(error)".contains("astdb.json is not a valid AstDB file")
            }
            #expect(FileManager.default.fileExists(atPath: directory + "/astdb.json"))
            #expect(try await db.families().isEmpty)
        }
    }
}

/// `withTemporaryDirectory` for async bodies.
func withTemporaryDirectoryAsync<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = NSTemporaryDirectory() + "pbxd-storage-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}
