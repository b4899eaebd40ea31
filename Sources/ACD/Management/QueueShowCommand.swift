import Foundation
import PBXCore

/// `queue show [name]` with Asterisk 18's layout (app_queue `print_queue`):
///
/// ```
/// 600 has 1 calls (max unlimited) in 'leastrecent' strategy (12s holdtime, 95s talktime), W:0, C:40, A:3, SL:92.5%, SL2:88.4% within 60s
///    Members:
///       Agent 811 (SIP/811) (ringinuse disabled) (dynamic) (Not in use) has taken 12 calls (last was 30 secs ago) (login was 3600 secs ago)
///    Callers:
///       1. SIP/1001-00000002 (wait: 0:18, prio: 0)
/// ```
/// pbxd adds the agent state when it says more than the device (`in wrap-up`, `ringing`…).
enum QueueShowCommand {
    static func command(_ engine: QueueEngine) -> CLICommand {
        CLICommand("queue show", summary: "Show status of a specified queue") { arguments in
            let name = arguments.first
            let reports = await engine.reports(queue: name)
            if let name, reports.isEmpty { return .failure("No such queue: \(name).") }
            if reports.isEmpty { return CLIResult(lines: ["No queues."]) }
            return CLIResult(lines: reports.flatMap(lines))
        }
    }

    static func lines(_ report: QueueReport) -> [String] {
        let s = report.settings, stats = report.statistics
        let max = s.maxLength > 0 ? String(s.maxLength) : "unlimited"
        var out = [
            "\(s.name) has \(report.callers.count) calls (max \(max)) in '\(s.strategy.rawValue)' strategy "
                + "(\(stats.holdTime)s holdtime, \(stats.talkTime)s talktime), W:\(s.weight), C:\(stats.completed), A:\(stats.abandoned), "
                + String(format: "SL:%.1f%%, SL2:%.1f%% within %ds", stats.serviceLevelPerformance, stats.serviceLevelPerformance2, s.serviceLevel),
        ]
        if report.members.isEmpty {
            out.append("   No Members")
        } else {
            out.append("   Members: ")
            for entry in report.members { out.append(memberLine(entry, settings: s, now: report.now)) }
        }
        if report.callers.isEmpty {
            out.append("   No Callers")
        } else {
            out.append("   Callers: ")
            for (index, caller) in report.callers.enumerated() {
                out.append(String(format: "      %d. %@ (wait: %d:%02d, prio: %d)", index + 1, caller.snapshot.name,
                                  caller.waited / 60, caller.waited % 60, caller.priority))
            }
        }
        out.append("")
        return out
    }

    static func memberLine(_ entry: QueueReport.Member, settings: QueueSettings, now: Date) -> String {
        let m = entry.member
        var line = "      \(m.name)"
        if m.name != m.interface {
            line += " (\(m.interface)" + (m.stateInterface != m.interface ? " from \(m.stateInterface)" : "") + ")"
        }
        if m.penalty != 0 { line += " with penalty \(m.penalty)" }
        line += " (ringinuse \(m.ringsInUse(settings) ? "enabled" : "disabled"))"
        if m.isDynamic { line += " (dynamic)" }
        if m.paused {
            let since = m.lastPause.map { Int(now.timeIntervalSince($0)) } ?? 0
            line += m.pausedReason.isEmpty ? " (paused was \(since) secs ago)" : " (paused:\(m.pausedReason) was \(since) secs ago)"
        }
        switch m.state {
        case .ringing: line += " (ringing)"
        case .onCall: line += " (in call)"
        case .wrapUp(let until): line += " (in wrap-up, \(max(0, Int(until.timeIntervalSince(now)))) secs left)"
        case .ringNoAnswer: line += " (ring-no-answer)"
        default: break
        }
        line += " (\(entry.device.description))"
        if let last = m.lastCall, m.callsTaken > 0 {
            line += " has taken \(m.callsTaken) calls (last was \(Int(now.timeIntervalSince(last))) secs ago)"
        } else {
            line += " has taken no calls yet"
        }
        line += " (login was \(Int(now.timeIntervalSince(m.loginTime))) secs ago)"
        return line
    }
}
