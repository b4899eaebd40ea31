import Foundation
import PBXCore

/// The queue actions of the manager port (ami.md §9.1–9.7), registered into PBXCore's
/// registry so the AMI target serves them without importing ACD.
enum QueueManagerActions {
    static func register(into registry: ManagerActionRegistry, engine: QueueEngine, queueLog: (any QueueLogSink)?, clock: @escaping @Sendable () -> Date) {
        registry.register(ManagerAction(name: "QueueAdd", authority: .agent) { request in
            guard let queue = request["Queue"], !queue.isEmpty else { return .error("'Queue' not specified.") }
            guard let interface = request["Interface"], !interface.isEmpty else { return .error("'Interface' not specified.") }
            let penalty = Int(request["Penalty"] ?? "0") ?? -1
            guard penalty >= 0 else { return .error("Invalid penalty") }
            let result = await engine.addMember(
                queue: queue, interface: interface, penalty: penalty, paused: isTrue(request["Paused"]), reason: request["Reason"] ?? "",
                memberName: nonEmpty(request["MemberName"]), stateInterface: nonEmpty(request["StateInterface"]))
            switch result {
            case .success: return .success(message: "Added interface to queue")
            case .failure(.alreadyMember): return .error("Unable to add interface: Already there")
            case .failure: return .error("Unable to add interface to queue: No such queue")
            }
        })
        registry.register(ManagerAction(name: "QueueRemove", authority: .agent) { request in
            guard let queue = nonEmpty(request["Queue"]), let interface = nonEmpty(request["Interface"]) else {
                return .error("Need 'Queue' and 'Interface' parameters.")
            }
            switch await engine.removeMember(queue: queue, interface: interface) {
            case .success: return .success(message: "Removed interface from queue")
            case .failure(.notMember): return .error("Unable to remove interface: Not there")
            case .failure(.notDynamic): return .error("Member not dynamic")
            case .failure: return .error("Unable to remove interface from queue: No such queue")
            }
        })
        registry.register(ManagerAction(name: "QueuePause", authority: .agent) { request in
            guard let interface = nonEmpty(request["Interface"]), let pausedText = nonEmpty(request["Paused"]) else {
                return .error("Need 'Interface' and 'Paused' parameters.")
            }
            let paused = isTrue(pausedText)
            switch await engine.setPaused(paused, interface: interface, queue: nonEmpty(request["Queue"]), reason: request["Reason"] ?? "") {
            case .success: return .success(message: paused ? "Interface paused successfully" : "Interface unpaused successfully")
            case .failure: return .error("Interface not found")
            }
        })
        registry.register(ManagerAction(name: "QueuePenalty", authority: .agent) { request in
            guard let interface = nonEmpty(request["Interface"]), let penaltyText = nonEmpty(request["Penalty"]) else {
                return .error("Need 'Interface' and 'Penalty' parameters.")
            }
            guard let penalty = Int(penaltyText), penalty >= 0,
                  case .success = await engine.setPenalty(penalty, interface: interface, queue: nonEmpty(request["Queue"])) else {
                return .error("Invalid interface, queuename or penalty")
            }
            return .success(message: "Interface penalty set successfully")
        })
        // pbxd's own: ends a member's wrap-up now (Asterisk has no such action; the feature code
        // *48 does the same from the agent's phone).
        registry.register(ManagerAction(name: "QueueWrapupEnd", authority: .agent) { request in
            guard let interface = nonEmpty(request["Interface"]) else { return .error("'Interface' not specified.") }
            return await engine.endWrapUp(interface: interface) ? .success(message: "Wrap-up ended") : .error("Interface not in wrap-up")
        })
        registry.register(ManagerAction(name: "QueueLog", authority: .agent) { request in
            guard let queue = nonEmpty(request["Queue"]), let event = nonEmpty(request["Event"]) else {
                return .error("Need 'Queue' and 'Event' parameters.")
            }
            queueLog?.write(QueueLogEntry(
                time: clock(), callID: nonEmpty(request["Uniqueid"]) ?? "NONE", queue: queue,
                agent: nonEmpty(request["Interface"]) ?? "NONE", event: event,
                data: (request["Message"] ?? "").split(separator: "|", omittingEmptySubsequences: false).map(String.init)))
            return .success(message: "Event added successfully")
        })
        registry.register(ManagerAction(name: "QueueStatus", authority: []) { request in
            let reports = await engine.reports(queue: nonEmpty(request["Queue"]))
            return .list(message: "Queue status will follow", items: statusItems(reports, member: nonEmpty(request["Member"])),
                         completeEvent: "QueueStatusComplete")
        })
        registry.register(ManagerAction(name: "QueueSummary", authority: []) { request in
            let reports = await engine.reports(queue: nonEmpty(request["Queue"]))
            return .list(message: "Queue summary will follow", items: reports.map(summary), completeEvent: "QueueSummaryComplete")
        })
    }

    /// QueueParams, then QueueMember per member, then QueueEntry per caller, for each queue.
    static func statusItems(_ reports: [QueueReport], member filter: String?) -> [ManagerEvent] {
        var items: [ManagerEvent] = []
        for report in reports {
            let s = report.settings, stats = report.statistics
            items.append(ManagerEvent(name: "QueueParams", class: .agent, fields: [
                .init("Queue", s.name), .init("Max", String(s.maxLength)), .init("Strategy", s.strategy.rawValue),
                .init("Calls", String(report.callers.count)), .init("Holdtime", String(stats.holdTime)),
                .init("TalkTime", String(stats.talkTime)), .init("Completed", String(stats.completed)),
                .init("Abandoned", String(stats.abandoned)), .init("ServiceLevel", String(s.serviceLevel)),
                .init("ServicelevelPerf", String(format: "%.1f", stats.serviceLevelPerformance)),
                .init("ServicelevelPerf2", String(format: "%.1f", stats.serviceLevelPerformance2)),
                .init("Weight", String(s.weight)),
            ]))
            for entry in report.members where filter == nil || entry.member.interface == filter || entry.member.name == filter {
                let m = entry.member
                items.append(ManagerEvent(name: "QueueMember", class: .agent, fields: [
                    .init("Queue", s.name), .init("Name", m.name), .init("Location", m.interface),
                    .init("StateInterface", m.stateInterface), .init("Membership", m.isDynamic ? "dynamic" : "static"),
                    .init("Penalty", String(m.penalty)), .init("CallsTaken", String(m.callsTaken)),
                    .init("LastCall", QueueEvents.epoch(m.lastCall)), .init("LastPause", QueueEvents.epoch(m.lastPause)),
                    .init("LoginTime", QueueEvents.epoch(m.loginTime)), .init("InCall", m.inCall ? "1" : "0"),
                    .init("Status", String(entry.device.rawValue)), .init("Paused", m.paused ? "1" : "0"),
                    .init("PausedReason", m.pausedReason), .init("Wrapuptime", String(s.wrapupTime)),
                ]))
            }
            for (index, caller) in report.callers.enumerated() {
                let c = caller.snapshot
                func unknown(_ value: String) -> String { value.isEmpty ? "unknown" : value }
                items.append(ManagerEvent(name: "QueueEntry", class: .agent, fields: [
                    .init("Queue", s.name), .init("Position", String(index + 1)), .init("Channel", c.name),
                    .init("Uniqueid", c.uniqueID), .init("CallerIDNum", unknown(c.callerIDNumber)),
                    .init("CallerIDName", unknown(c.callerIDName)), .init("ConnectedLineNum", unknown(c.connectedLineNumber)),
                    .init("ConnectedLineName", unknown(c.connectedLineName)), .init("Wait", String(caller.waited)),
                    .init("Priority", String(caller.priority)),
                ]))
            }
        }
        return items
    }

    static func summary(_ report: QueueReport) -> ManagerEvent {
        let loggedIn = report.members.filter { $0.device.isReachable }
        let available = loggedIn.filter { $0.member.isFree && ($0.device.isIdle) }
        return ManagerEvent(name: "QueueSummary", class: .agent, fields: [
            .init("Queue", report.settings.name), .init("LoggedIn", String(loggedIn.count)),
            .init("Available", String(available.count)), .init("Callers", String(report.callers.count)),
            .init("HoldTime", String(report.statistics.holdTime)), .init("TalkTime", String(report.statistics.talkTime)),
            .init("LongestHoldTime", String(report.callers.map(\.waited).max() ?? 0)),
        ])
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// Asterisk's `ast_true`.
    static func isTrue(_ value: String?) -> Bool {
        ["yes", "true", "y", "t", "1", "on"].contains((value ?? "").lowercased())
    }
}
