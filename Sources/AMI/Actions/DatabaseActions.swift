import Dialplan
import PBXCore

/// DBGet, DBPut, DBDel on the dialplan's AstDB (ami.md §8.13).
enum DatabaseActions {
    static func register(into registry: ManagerActionRegistry, astDB: any AstDB) {
        registry.register(ManagerAction(name: "DBGet", authority: [.system, .reporting]) { request in
            guard let family = nonEmpty(request["Family"]) else { return .error("No family specified.") }
            guard let key = nonEmpty(request["Key"]) else { return .error("No key specified.") }
            guard let value = try? await astDB.get(family: family, key: key) else { return .error("Database entry not found") }
            var item = [ManagerEvent.Field("Family", family), .init("Key", key), .init("Val", value)]
            if let actionID = request["ActionID"], !actionID.isEmpty { item.append(.init("ActionID", actionID)) }
            return .list(message: "Result will follow",
                         items: [ManagerEvent(name: "DBGetResponse", class: [], fields: item)], completeEvent: "DBGetComplete")
        })
        registry.register(ManagerAction(name: "DBPut", authority: .system) { request in
            guard let family = nonEmpty(request["Family"]) else { return .error("No family specified") }
            guard let key = nonEmpty(request["Key"]) else { return .error("No key specified") }
            do {
                try await astDB.put(family: family, key: key, value: request["Val"] ?? "")
            } catch {
                return .error("Failed to update entry")
            }
            return .success(message: "Updated database successfully")
        })
        registry.register(ManagerAction(name: "DBDel", authority: .system) { request in
            guard let family = nonEmpty(request["Family"]) else { return .error("No family specified.") }
            guard let key = nonEmpty(request["Key"]) else { return .error("No key specified.") }
            guard (try? await astDB.delete(family: family, key: key)) == true else { return .error("Database entry not found") }
            return .success(message: "Key deleted successfully")
        })
    }
}

/// A header's value, or nil when it is missing or empty (Asterisk treats both as missing).
func nonEmpty(_ value: String?) -> String? {
    guard let value, !value.isEmpty else { return nil }
    return value
}
