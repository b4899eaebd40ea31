/// A channel as events describe it: the 14-key "channel block" of every AMI call event
/// (ami.md §10.1), taken at one instant so an event never mixes two states of a channel.
public struct ChannelSnapshot: Sendable, Equatable {
    public var name: String
    public var state: ChannelState
    public var callerIDNumber: String
    public var callerIDName: String
    public var connectedLineNumber: String
    public var connectedLineName: String
    public var language: String
    public var accountCode: String
    /// Where the channel is in the dialplan (empty before it enters one).
    public var context: String
    public var exten: String
    public var priority: Int
    public var uniqueID: String
    public var linkedID: String

    public init(
        name: String, state: ChannelState, callerIDNumber: String = "", callerIDName: String = "",
        connectedLineNumber: String = "", connectedLineName: String = "", language: String = "en",
        accountCode: String = "", context: String = "", exten: String = "", priority: Int = 1,
        uniqueID: String, linkedID: String
    ) {
        self.name = name
        self.state = state
        self.callerIDNumber = callerIDNumber
        self.callerIDName = callerIDName
        self.connectedLineNumber = connectedLineNumber
        self.connectedLineName = connectedLineName
        self.language = language
        self.accountCode = accountCode
        self.context = context
        self.exten = exten
        self.priority = priority
        self.uniqueID = uniqueID
        self.linkedID = linkedID
    }

    /// The block's fields in AMI order; `prefix` makes the second-channel form (`DestChannel`…).
    /// Empty caller and connected-line values print as `<unknown>`, as Asterisk does.
    public func fields(prefix: String = "") -> [ManagerEvent.Field] {
        func unknownIfEmpty(_ value: String) -> String { value.isEmpty ? "<unknown>" : value }
        return [
            .init(prefix + "Channel", name),
            .init(prefix + "ChannelState", String(state.rawValue)),
            .init(prefix + "ChannelStateDesc", state.description),
            .init(prefix + "CallerIDNum", unknownIfEmpty(callerIDNumber)),
            .init(prefix + "CallerIDName", unknownIfEmpty(callerIDName)),
            .init(prefix + "ConnectedLineNum", unknownIfEmpty(connectedLineNumber)),
            .init(prefix + "ConnectedLineName", unknownIfEmpty(connectedLineName)),
            .init(prefix + "Language", language),
            .init(prefix + "AccountCode", accountCode),
            .init(prefix + "Context", context),
            .init(prefix + "Exten", exten),
            .init(prefix + "Priority", String(priority)),
            .init(prefix + "Uniqueid", uniqueID),
            .init(prefix + "Linkedid", linkedID),
        ]
    }
}
