import Foundation

/// `DB(family/key)`, `DB_EXISTS(family/key)`, `DB_DELETE(family/key)`, `DB_KEYS([family])`
/// over the executor's `AstDB` (Asterisk `func_db`).
enum DatabaseFunctions {
    static let all: [DialplanFunction] = [database, exists, delete, keys]

    /// `family/key`: split at the first `/` (the key may contain more); both required.
    static func familyAndKey(_ arguments: String, function: String) throws -> (family: String, key: String) {
        let text = arguments.trimmingCharacters(in: .whitespaces)
        guard let slash = text.firstIndex(of: "/") else {
            throw DialplanError("\(function) requires an argument, \(function)(<family>/<key>)")
        }
        let family = String(text[..<slash]), key = String(text[text.index(after: slash)...])
        guard !family.isEmpty, !key.isEmpty else {
            throw DialplanError("\(function) requires an argument, \(function)(<family>/<key>)")
        }
        return (family, key)
    }

    /// Read: the value, or "" when the key doesn't exist. Write: stores the value.
    static let database = DialplanFunction(
        name: "DB",
        read: { execution, arguments in
            let (family, key) = try familyAndKey(arguments, function: "DB")
            guard let value = try await execution.executor.astDB.get(family: family, key: key) else {
                execution.logger.debug("DB: \(family)/\(key) not found in database")
                return ""
            }
            return value
        },
        write: { execution, arguments, value in
            let (family, key) = try familyAndKey(arguments, function: "DB")
            try await execution.executor.astDB.put(family: family, key: key, value: value)
        }
    )

    /// `1` when the key exists (and `DB_RESULT` set to its value), else `0`.
    static let exists = DialplanFunction(name: "DB_EXISTS") { execution, arguments in
        let (family, key) = try familyAndKey(arguments, function: "DB_EXISTS")
        guard let value = try await execution.executor.astDB.get(family: family, key: key) else { return "0" }
        execution.setVariable("DB_RESULT", value)
        return "1"
    }

    /// Read: deletes the key and returns the value it had (also in `DB_RESULT`); "" when it
    /// didn't exist. Write (`Set(DB_DELETE(f/k)=)`): deletes, value ignored.
    static let delete = DialplanFunction(
        name: "DB_DELETE",
        read: { execution, arguments in
            let (family, key) = try familyAndKey(arguments, function: "DB_DELETE")
            let db = execution.executor.astDB
            guard let value = try await db.get(family: family, key: key) else {
                execution.logger.debug("DB_DELETE: \(family)/\(key) could not be found in the database")
                execution.setVariable("DB_RESULT", "")
                return ""
            }
            try await db.delete(family: family, key: key)
            execution.setVariable("DB_RESULT", value)
            return value
        },
        write: { execution, arguments, _ in
            let (family, key) = try familyAndKey(arguments, function: "DB_DELETE")
            try await execution.executor.astDB.delete(family: family, key: key)
        }
    )

    /// The keys of a family, comma-separated (a key holding `/` shows its first part once, as
    /// Asterisk lists the next level of the tree); with no family, the families.
    static let keys = DialplanFunction(name: "DB_KEYS") { execution, arguments in
        let family = arguments.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let db = execution.executor.astDB
        guard !family.isEmpty else { return try await db.families().joined(separator: ",") }
        var seen = Set<String>()
        let names = try await db.entries(family: family).map { String($0.key.prefix { $0 != "/" }) }
        return names.filter { seen.insert($0).inserted }.joined(separator: ",")
    }
}
