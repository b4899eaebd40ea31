import Foundation
import PBXCore

/// QueueReset, QueueReload and QueueMemberRingInUse on the manager port, with app_queue's
/// parameters and replies (manager_queue_reset, manager_queue_reload,
/// manager_queue_member_ringinuse).
enum QueueAdminActions {
    static func register(into registry: ManagerActionRegistry, engine: QueueEngine,
                         reloadConfig: (@Sendable () throws(ConfigError) -> QueuesConfig)?) {
        registry.register(ManagerAction(name: "QueueReset", authority: []) { request in
            let queue = QueueManagerActions.nonEmpty(request["Queue"])
            guard await engine.resetStatistics(queue: queue) else {
                return .error("Error encountered while resetting queue stats: no such queue '\(queue ?? "")'")
            }
            return .success(message: "Queue stats reset successfully")
        })
        registry.register(ManagerAction(name: "QueueReload", authority: []) { request in
            // Only the parts whose header says yes; none named: all of them.
            var parts: QueueEngine.ReloadParts = []
            for (header, part) in [("Members", QueueEngine.ReloadParts.members), ("Rules", .rules), ("Parameters", .parameters)]
            where (request[header] ?? "").lowercased() == "yes" {
                parts.insert(part)
            }
            switch await reload(engine, reloadConfig, parts: parts.isEmpty ? .all : parts, queue: QueueManagerActions.nonEmpty(request["Queue"])) {
            case nil: return .success(message: "Queue reloaded successfully")
            case let why?: return .error("Error encountered while reloading queue: \(why)")
            }
        })
        registry.register(ManagerAction(name: "QueueMemberRingInUse", authority: .agent) { request in
            guard let interface = QueueManagerActions.nonEmpty(request["Interface"]),
                  let text = QueueManagerActions.nonEmpty(request["RingInUse"]) else {
                return .error("'Interface' and 'RingInUse' must be provided.")
            }
            guard let ringInUse = QueueFunctions.flag(text) else {
                return .error("'RingInUse' parameter must be a truth value (yes/no, on/off, 0/1, etc)")
            }
            guard case .success = await engine.setRingInUse(ringInUse, interface: interface, queue: QueueManagerActions.nonEmpty(request["Queue"])) else {
                return .error("Invalid interface, queuename, or ringinuse value")
            }
            return .success(message: "Interface ringinuse set successfully")
        })
    }

    /// Reads the configuration again and applies `parts` of it; the reason when it can't.
    static func reload(_ engine: QueueEngine, _ reloadConfig: (@Sendable () throws(ConfigError) -> QueuesConfig)?,
                       parts: QueueEngine.ReloadParts, queue: String?) async -> String? {
        guard let reloadConfig else { return "this server cannot read queues.conf again" }
        let config: QueuesConfig
        do {
            config = try reloadConfig()
        } catch {
            return error.description
        }
        if case .failure(let error) = await engine.reload(config, parts: parts, queue: queue) {
            return "\(error) '\(queue ?? "")'"
        }
        return nil
    }
}
