import Foundation
import PBXCore

/// The manager events app_queue emits (ami.md §10.7–10.9), built with Asterisk's field order.
enum QueueEvents {
    static func epoch(_ date: Date?) -> String {
        String(Int64((date?.timeIntervalSince1970 ?? 0).rounded(.down)))
    }

    /// The member record shared by QueueMemberAdded/Removed/Pause/Penalty/Status.
    static func memberFields(queue: String, _ member: QueueMember, device: DeviceState, ringInUse: Bool, wrapup: Int) -> [ManagerEvent.Field] {
        [
            .init("Queue", queue), .init("MemberName", member.name), .init("Interface", member.interface),
            .init("StateInterface", member.stateInterface), .init("Membership", member.isDynamic ? "dynamic" : "static"),
            .init("Penalty", String(member.penalty)), .init("CallsTaken", String(member.callsTaken)),
            .init("LastCall", epoch(member.lastCall)), .init("LastPause", epoch(member.lastPause)),
            .init("LoginTime", epoch(member.loginTime)), .init("InCall", member.inCall ? "1" : "0"),
            .init("Status", String(device.rawValue)), .init("Paused", member.paused ? "1" : "0"),
            .init("PausedReason", member.pausedReason), .init("Ringinuse", ringInUse ? "1" : "0"),
            .init("Wrapuptime", String(wrapup)),
        ]
    }

    static func member(_ name: String, queue: QueueSettings, _ member: QueueMember, device: DeviceState, at time: Date) -> ManagerEvent {
        ManagerEvent(name: name, class: .agent,
                     fields: memberFields(queue: queue.name, member, device: device, ringInUse: member.ringsInUse(queue), wrapup: queue.wrapupTime),
                     timestamp: time.timeIntervalSince1970)
    }

    /// QueueCallerJoin/Leave/Abandon: the caller's channel block, then `extra`.
    static func caller(_ name: String, _ snapshot: ChannelSnapshot, _ extra: [ManagerEvent.Field], at time: Date) -> ManagerEvent {
        ManagerEvent(name: name, class: .agent, fields: snapshot.fields() + extra, timestamp: time.timeIntervalSince1970)
    }

    /// AgentCalled/RingNoAnswer/Connect/Complete/Dump: caller block, Dest block, then `extra`.
    static func agent(_ name: String, caller: ChannelSnapshot, agent: ChannelSnapshot?, queue: String, member: QueueMember,
                      _ extra: [ManagerEvent.Field] = [], at time: Date) -> ManagerEvent {
        var fields = caller.fields()
        if let agent { fields += agent.fields(prefix: "Dest") }
        fields += [.init("Queue", queue), .init("Interface", member.interface), .init("MemberName", member.name)] + extra
        return ManagerEvent(name: name, class: .agent, fields: fields, timestamp: time.timeIntervalSince1970)
    }
}
