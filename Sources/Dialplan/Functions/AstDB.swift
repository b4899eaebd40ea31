/// Asterisk's small key/value database (`astdb`), read and written by `DB()`, `DB_EXISTS()`
/// and `DB_DELETE()` — call centers keep night-mode flags, blacklists and call-forward
/// numbers in it. Keys live in families, as in Asterisk (`/family/key`).
///
/// `InMemoryAstDB` here is the default and the tests' store; pbxd uses the persistent one, the
/// `astdb` table of pbxd.sqlite (Storage's `AstDBStore`, DESIGN.md §6).
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

/// `InMemoryAstDB`'s contents: `[family: [key: value]]`.
struct AstDBContents: Equatable {
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
