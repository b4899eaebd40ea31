import Foundation

/// Asterisk's small key/value database (`astdb`), read and written by `DB()`, `DB_EXISTS()`
/// and `DB_DELETE()` — call centers keep night-mode flags, blacklists and call-forward
/// numbers in it. Keys live in families, as in Asterisk (`/family/key`).
///
/// Two implementations for now: `InMemoryAstDB` (the default, and for tests) and
/// `JSONFileAstDB` (persistent, one JSON file in the data directory). The SQLite store of
/// DESIGN.md §6 comes later behind this same protocol, with an import of the JSON file.
public protocol AstDB: Sendable {
    func get(family: String, key: String) async throws -> String?
    func put(family: String, key: String, value: String) async throws
    /// Removes the key; returns whether it existed.
    @discardableResult
    func delete(family: String, key: String) async throws -> Bool
    /// Every key of `family`, sorted (`database show family`).
    func entries(family: String) async throws -> [(key: String, value: String)]
    /// The families that have keys, sorted.
    func families() async throws -> [String]
}

/// The keyed storage shared by both implementations: `[family: [key: value]]`.
struct AstDBContents: Codable, Equatable {
    var families: [String: [String: String]] = [:]

    func get(family: String, key: String) -> String? { families[family]?[key] }

    mutating func put(family: String, key: String, value: String) {
        families[family, default: [:]][key] = value
    }

    mutating func delete(family: String, key: String) -> Bool {
        guard families[family]?.removeValue(forKey: key) != nil else { return false }
        if families[family]?.isEmpty == true { families[family] = nil }
        return true
    }

    func entries(family: String) -> [(key: String, value: String)] {
        (families[family] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    var familyNames: [String] { families.keys.sorted() }
}

/// An AstDB that forgets everything when the process ends.
public actor InMemoryAstDB: AstDB {
    private var contents = AstDBContents()

    public init() {}

    public func get(family: String, key: String) -> String? { contents.get(family: family, key: key) }
    public func put(family: String, key: String, value: String) { contents.put(family: family, key: key, value: value) }
    public func delete(family: String, key: String) -> Bool { contents.delete(family: family, key: key) }
    public func entries(family: String) -> [(key: String, value: String)] { contents.entries(family: family) }
    public func families() -> [String] { contents.familyNames }
}

/// An AstDB kept in `astdb.json` in the data directory. Every change rewrites the file
/// atomically (a temporary file renamed over the old one), so a crash leaves either the old
/// or the new contents, never half a file; a put returns only once it is on disk.
///
/// Fine for the few hundred keys dialplans keep; SQLite replaces it later (see `AstDB`).
public actor JSONFileAstDB: AstDB {
    public nonisolated let fileURL: URL
    private var contents: AstDBContents

    public static let fileName = "astdb.json"

    /// Opens (or starts) the database in `directory`, creating the directory if needed.
    /// A file that exists but can't be read as an AstDB is an error: starting with an empty
    /// database and overwriting it on the first put would lose the operator's data.
    public init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        fileURL = directory.appendingPathComponent(Self.fileName)
        if FileManager.default.fileExists(atPath: fileURL.path) {
            let data = try Data(contentsOf: fileURL)
            do {
                contents = try JSONDecoder().decode(AstDBContents.self, from: data)
            } catch {
                throw DialplanError("\(fileURL.path) is not a valid AstDB file: \(error)")
            }
        } else {
            contents = AstDBContents()
        }
    }

    public func get(family: String, key: String) -> String? { contents.get(family: family, key: key) }

    public func put(family: String, key: String, value: String) throws {
        var updated = contents
        updated.put(family: family, key: key, value: value)
        try save(updated)
    }

    public func delete(family: String, key: String) throws -> Bool {
        var updated = contents
        guard updated.delete(family: family, key: key) else { return false }
        try save(updated)
        return true
    }

    public func entries(family: String) -> [(key: String, value: String)] { contents.entries(family: family) }
    public func families() -> [String] { contents.familyNames }

    /// Writes first, then adopts: a failed write leaves memory and disk agreeing.
    private func save(_ updated: AstDBContents) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(updated).write(to: fileURL, options: .atomic)
        contents = updated
    }
}
