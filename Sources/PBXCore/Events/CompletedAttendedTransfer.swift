/// A successful AttendedTransfer event read back, for subscribers that track calls by channel
/// (Queue logs ATTENDEDTRANSFER for a queue call an agent transferred this way, as app_queue
/// does from its stasis subscription).
public struct CompletedAttendedTransfer: Sendable, Equatable {
    public var transferer: ChannelSnapshot
    public var transferee: ChannelSnapshot
    public var target: ChannelSnapshot
    /// Where transferee and target are now bridged (`DestBridgeUniqueid`).
    public var bridgeID: String

    /// Nil for any other event, a failed transfer or a channel block that is incomplete.
    public init?(_ event: ManagerEvent) {
        guard event.name == "AttendedTransfer", event["Result"] == "Success", let bridgeID = event["DestBridgeUniqueid"],
            let transferer = ChannelSnapshot(event, prefix: "OrigTransferer"),
            let transferee = ChannelSnapshot(event, prefix: "Transferee"),
            let target = ChannelSnapshot(event, prefix: "TransferTarget")
        else { return nil }
        self.transferer = transferer
        self.transferee = transferee
        self.target = target
        self.bridgeID = bridgeID
    }
}

extension ChannelSnapshot {
    /// The channel block `fields(prefix:)` wrote, read back from `event` (`<unknown>` caller
    /// IDs become empty again). Nil without its channel name, Uniqueid or a known state.
    init?(_ event: ManagerEvent, prefix: String) {
        func text(_ key: String) -> String {
            let value = event[prefix + key] ?? ""
            return value == "<unknown>" ? "" : value
        }
        guard let name = event[prefix + "Channel"], let uniqueID = event[prefix + "Uniqueid"],
            let state = Int(text("ChannelState")).flatMap(ChannelState.init(rawValue:))
        else { return nil }
        self.init(
            name: name, state: state, callerIDNumber: text("CallerIDNum"), callerIDName: text("CallerIDName"),
            connectedLineNumber: text("ConnectedLineNum"), connectedLineName: text("ConnectedLineName"),
            language: text("Language"), accountCode: text("AccountCode"), context: text("Context"), exten: text("Exten"),
            priority: Int(text("Priority")) ?? 1, uniqueID: uniqueID, linkedID: text("Linkedid"))
    }
}
