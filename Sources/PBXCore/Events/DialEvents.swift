import Foundation

/// Dial and bridge events (ami.md §10.4–10.5) with the transcripts' field order.
extension ManagerEvent {
    /// DialBegin: the caller's block (none for an originated call), the callee's as `Dest…`.
    public static func dialBegin(caller: ChannelSnapshot?, callee: ChannelSnapshot, dialString: String) -> ManagerEvent {
        ManagerEvent(name: "DialBegin", class: .call,
                     fields: dialFields(caller, callee) + [Field("DialString", dialString)])
    }

    /// DialState: the callee's progress (`RINGING`, `PROCEEDING`, `PROGRESS`).
    public static func dialState(caller: ChannelSnapshot?, callee: ChannelSnapshot, status: String) -> ManagerEvent {
        ManagerEvent(name: "DialState", class: .call, fields: dialFields(caller, callee) + [Field("DialStatus", status)])
    }

    /// DialEnd: how this callee's leg of the dial ended (a DIALSTATUS value).
    public static func dialEnd(caller: ChannelSnapshot?, callee: ChannelSnapshot, status: String) -> ManagerEvent {
        ManagerEvent(name: "DialEnd", class: .call, fields: dialFields(caller, callee) + [Field("DialStatus", status)])
    }

    private static func dialFields(_ caller: ChannelSnapshot?, _ callee: ChannelSnapshot) -> [Field] {
        (caller?.fields() ?? []) + callee.fields(prefix: "Dest")
    }

    public static func bridgeCreate(_ bridge: BridgeSnapshot) -> ManagerEvent {
        ManagerEvent(name: "BridgeCreate", class: .call, fields: bridge.fields)
    }

    public static func bridgeEnter(_ bridge: BridgeSnapshot, channel: ChannelSnapshot) -> ManagerEvent {
        ManagerEvent(name: "BridgeEnter", class: .call, fields: bridge.fields + channel.fields())
    }

    public static func bridgeLeave(_ bridge: BridgeSnapshot, channel: ChannelSnapshot) -> ManagerEvent {
        ManagerEvent(name: "BridgeLeave", class: .call, fields: bridge.fields + channel.fields())
    }

    public static func bridgeDestroy(_ bridge: BridgeSnapshot) -> ManagerEvent {
        ManagerEvent(name: "BridgeDestroy", class: .call, fields: bridge.fields)
    }
}

/// A two-party bridge as events describe it (ami.md §10.2).
public struct BridgeSnapshot: Sendable, Equatable {
    /// A UUID, as Asterisk names bridges.
    public var uniqueID: String
    public var channelCount: Int

    public init(uniqueID: String = UUID().uuidString.lowercased(), channelCount: Int = 0) {
        self.uniqueID = uniqueID
        self.channelCount = channelCount
    }

    var fields: [ManagerEvent.Field] {
        [
            .init("BridgeUniqueid", uniqueID),
            .init("BridgeType", "basic"),
            .init("BridgeTechnology", "simple_bridge"),
            .init("BridgeCreator", "<unknown>"),
            .init("BridgeName", "<unknown>"),
            .init("BridgeNumChannels", String(channelCount)),
            .init("BridgeVideoSourceMode", "none"),
        ]
    }
}
