import Dialplan
import PBXCore

/// app_queue's dialplan functions: `QUEUE_MEMBER` (Asterisk 18's options, `penalty`,
/// `paused` and `ringinuse` also written), `QUEUE_MEMBER_COUNT`, `QUEUE_MEMBER_LIST`,
/// `QUEUE_EXISTS`, `QUEUE_GET_CHANNEL` and `QUEUE_WAITING_COUNT`. An unknown queue, option or
/// member is an error naming it.
enum QueueFunctions {
    static func all(_ engine: QueueEngine) -> [DialplanFunction] {
        [
            queueMember(engine),
            DialplanFunction(name: "QUEUE_MEMBER_COUNT") { _, arguments in
                let queue = arguments.trimmingCharacters(in: .whitespaces)
                guard let count = await engine.memberCount(queue: queue, option: "logged") else { throw DialplanError("QUEUE_MEMBER_COUNT: no queue '\(queue)'") }
                return String(count)
            },
            DialplanFunction(name: "QUEUE_MEMBER_LIST") { _, arguments in
                let queue = arguments.trimmingCharacters(in: .whitespaces)
                guard let report = await engine.reports(queue: queue).first else { throw DialplanError("QUEUE_MEMBER_LIST: no queue '\(queue)'") }
                return report.members.map(\.member.interface).joined(separator: ",")
            },
            DialplanFunction(name: "QUEUE_EXISTS") { _, arguments in
                await engine.settings(of: arguments.trimmingCharacters(in: .whitespaces)) == nil ? "0" : "1"
            },
            DialplanFunction(name: "QUEUE_GET_CHANNEL") { _, arguments in
                let f = MemberApplications.fields(arguments)
                guard let queue = f.first, !queue.isEmpty else { throw DialplanError("QUEUE_GET_CHANNEL: expected queuename[,position]") }
                guard await engine.settings(of: queue) != nil else { throw DialplanError("QUEUE_GET_CHANNEL: no queue '\(queue)'") }
                var position = 1
                if f.count > 1, !f[1].isEmpty {
                    guard let value = Int(f[1]), value >= 1 else { throw DialplanError("QUEUE_GET_CHANNEL: position '\(f[1])' is not a number ≥ 1") }
                    position = value
                }
                return await engine.callerChannel(queue: queue, position: position) ?? ""
            },
            DialplanFunction(name: "QUEUE_WAITING_COUNT") { _, arguments in
                String(await engine.waitingCount(queue: arguments.trimmingCharacters(in: .whitespaces)) ?? 0)
            },
        ]
    }

    static let usage = "QUEUE_MEMBER(queuename,option[,interface]) with option logged, free, ready, count, or penalty, paused, ringinuse for an interface"

    /// `QUEUE_MEMBER(queue,option[,interface])`. Read: the counts, or a member's penalty,
    /// paused (0/1), ringinuse (0/1). Write (`penalty`, `paused`, `ringinuse`): the queue may be
    /// empty for all the member's queues, as app_queue's queue_function_mem_write.
    static func queueMember(_ engine: QueueEngine) -> DialplanFunction {
        DialplanFunction(
            name: "QUEUE_MEMBER",
            read: { _, arguments in
                let f = MemberApplications.fields(arguments)
                guard f.count >= 2, !f[0].isEmpty else { throw DialplanError("QUEUE_MEMBER: expected \(usage)") }
                let option = f[1].lowercased()
                if ["penalty", "paused", "ringinuse", "ignorebusy"].contains(option) {
                    guard f.count > 2, !f[2].isEmpty else { throw DialplanError("QUEUE_MEMBER: option '\(option)' needs an interface") }
                    guard let (member, settings) = await engine.member(queue: f[0], interface: f[2]) else {
                        throw DialplanError("QUEUE_MEMBER: '\(f[2])' is not a member of queue '\(f[0])'")
                    }
                    switch option {
                    case "penalty": return String(member.penalty)
                    case "paused": return member.paused ? "1" : "0"
                    default: return member.ringsInUse(settings) ? "1" : "0"
                    }
                }
                guard let count = await engine.memberCount(queue: f[0], option: option) else {
                    throw DialplanError("QUEUE_MEMBER: unknown queue '\(f[0])' or option '\(f[1])'; expected \(usage)")
                }
                return String(count)
            },
            write: { _, arguments, value in
                let f = MemberApplications.fields(arguments)
                guard f.count >= 3, !f[2].isEmpty else { throw DialplanError("QUEUE_MEMBER: writing needs [queuename],option,interface") }
                let queue = f[0].isEmpty ? nil : f[0], interface = f[2]
                let text = value.trimmingCharacters(in: .whitespaces)
                let result: Result<Void, MemberChangeError>
                switch f[1].lowercased() {
                case "penalty":
                    guard let penalty = Int(text), penalty >= 0 else { throw DialplanError("QUEUE_MEMBER: penalty '\(text)' is not a number ≥ 0") }
                    result = await engine.setPenalty(penalty, interface: interface, queue: queue)
                case "paused":
                    guard let paused = Self.flag(text) else { throw DialplanError("QUEUE_MEMBER: paused '\(text)' is not 0 or 1") }
                    result = await engine.setPaused(paused, interface: interface, queue: queue).map { _ in () }
                case "ringinuse", "ignorebusy":
                    guard let ringInUse = Self.flag(text) else { throw DialplanError("QUEUE_MEMBER: ringinuse '\(text)' is not 0 or 1") }
                    result = await engine.setRingInUse(ringInUse, interface: interface, queue: queue)
                default:
                    throw DialplanError("QUEUE_MEMBER: option '\(f[1])' cannot be written (penalty, paused, ringinuse)")
                }
                if case .failure(let error) = result {
                    throw DialplanError("QUEUE_MEMBER: cannot set \(f[1]) of '\(interface)'\(queue.map { " in queue '\($0)'" } ?? ""): \(error)")
                }
            })
    }

    /// Asterisk's ast_true/ast_false for 0/1-style values.
    static func flag(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "yes", "true", "on", "y", "t": true
        case "0", "no", "false", "off", "n", "f": false
        default: nil
        }
    }
}
