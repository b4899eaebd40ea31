import Dialplan
import Foundation
import PBXCore

/// A module `Reload` can reload (`Module: manager`), with what it does.
public struct ReloadableModule: Sendable {
    public var name: String
    /// Returns nil on success, else why the old configuration was kept.
    public var reload: @Sendable () async -> String?

    public init(name: String, reload: @escaping @Sendable () async -> String?) {
        self.name = name
        self.reload = reload
    }
}

/// Ping, CoreStatus, CoreSettings, UserEvent and Reload (ami.md §7, §8.12).
enum CoreActions {
    static func register(into registry: ManagerActionRegistry, context: ManagerContext, channels: ChannelRegistry,
                         executions: ExecutionRegistry, modules: [ReloadableModule]) {
        registry.register(ManagerAction(name: "Ping", authority: []) { _ in
            .success(message: nil, fields: [.init("Ping", "Pong"), .init("Timestamp", AMIMessage.formatTimestamp(Date().timeIntervalSince1970))])
        })
        registry.register(ManagerAction(name: "CoreSettings", authority: [.system, .reporting]) { _ in
            .success(message: nil, fields: [
                .init("AMIversion", AMIVersion.ami), .init("AsteriskVersion", AMIVersion.asterisk), .init("SystemName", ""),
                .init("CoreMaxCalls", "0"), .init("CoreMaxLoadAvg", "0.000000"), .init("CoreRunUser", ProcessInfo.processInfo.userName),
                .init("CoreRunGroup", ProcessInfo.processInfo.userName), .init("CoreMaxFilehandles", "0"),
                .init("CoreRealTimeEnabled", "No"), .init("CoreCDRenabled", "No"), .init("CoreHTTPenabled", "No"),
                .init("SoundsSearchCustomDir", "No"),
            ])
        })
        registry.register(ManagerAction(name: "CoreStatus", authority: [.system, .reporting]) { _ in
            let (startDate, startTime) = localDateAndTime(context.system.startedAt)
            let (reloadDate, reloadTime) = localDateAndTime(Date().addingTimeInterval(-Double(context.system.secondsSinceReload)))
            return .success(message: nil, fields: [
                .init("CoreStartupDate", startDate), .init("CoreStartupTime", startTime),
                .init("CoreReloadDate", reloadDate), .init("CoreReloadTime", reloadTime),
                .init("CoreCurrentCalls", String(channels.count)), .init("CoreProcessedCalls", String(executions.callsProcessed)),
            ])
        })
        registry.register(ManagerAction(name: "UserEvent", authority: .user) { request in
            guard let name = request["UserEvent"], !name.isEmpty else { return .error("UserEvent not specified") }
            // Every header but Action and UserEvent, verbatim and in order (ActionID included).
            let extra = request.headers.filter {
                $0.key.caseInsensitiveCompare("Action") != .orderedSame && $0.key.caseInsensitiveCompare("UserEvent") != .orderedSame
            }
            context.bus.publish(ManagerEvent(name: "UserEvent", class: .user, fields: [.init("UserEvent", name)] + extra))
            return .success(message: "Event Sent")
        })
        registry.register(ManagerAction(name: "Reload", authority: [.config, .system]) { request in
            await reload(request["Module"], modules: modules, context: context)
        })
    }

    /// Reloads one module or all of them; each is reported through `SystemStatus.reloaded`
    /// (the `Reload` event, ami.md §10.13, and LastReload on success).
    private static func reload(_ moduleName: String?, modules: [ReloadableModule], context: ManagerContext) async -> ManagerReply {
        let requested = moduleName?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let targets = requested.isEmpty ? modules : modules.filter { $0.name.lowercased() == requested }
        guard !targets.isEmpty else { return .error("No such module") }
        var failure: String?
        for module in targets {
            let problem = await module.reload()
            context.system.reloaded(module: module.name, status: problem == nil ? .success : .error)
            if let problem {
                context.logger.error("reload failed; keeping the old configuration", metadata: ["module": "\(module.name)", "reason": "\(problem)"])
                failure = problem
            }
        }
        return failure == nil ? .success(message: "Module Reloaded") : .error("An unknown error occurred")
    }

    /// CoreStatus prints local dates and times: `2026-11-22`, `03:12:25`.
    private static func localDateAndTime(_ date: Date) -> (String, String) {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        let day = formatter.string(from: date)
        formatter.dateFormat = "HH:mm:ss"
        return (day, formatter.string(from: date))
    }
}
