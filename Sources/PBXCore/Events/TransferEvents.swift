extension ManagerEvent {
    /// BlindTransfer (ami.md §10.6): `Result` (`Success`, `Fail`, `Invalid`), the transferer's and
    /// the transferee's blocks, the bridge they shared, and where the transferee was sent.
    public static func blindTransfer(
        result: String, transferer: ChannelSnapshot, transferee: ChannelSnapshot, bridge: BridgeSnapshot,
        context: String, exten: String
    ) -> ManagerEvent {
        var fields = [Field("Result", result)]
        fields += transferer.fields(prefix: "Transferer")
        fields += transferee.fields(prefix: "Transferee")
        fields += bridge.fields
        fields += [Field("IsExternal", "No"), Field("Context", context), Field("Extension", exten)]
        return ManagerEvent(name: "BlindTransfer", class: .call, fields: fields)
    }

    /// AttendedTransfer (ami.md §10.6) for a transfer whose result is a bridge: the transferee's
    /// bridge, which the target entered (`DestType: Bridge`). pbxd's consultation runs on the
    /// transferer itself, so it is both the original and the second transferer.
    public static func attendedTransfer(
        result: String, transferer: ChannelSnapshot, bridge: BridgeSnapshot, secondBridge: BridgeSnapshot?,
        transferee: ChannelSnapshot, target: ChannelSnapshot
    ) -> ManagerEvent {
        var fields = [Field("Result", result)]
        fields += transferer.fields(prefix: "OrigTransferer")
        fields += bridge.fields(prefix: "Orig")
        fields += transferer.fields(prefix: "SecondTransferer")
        if let secondBridge { fields += secondBridge.fields(prefix: "Second") }
        fields += transferee.fields(prefix: "Transferee")
        fields += target.fields(prefix: "TransferTarget")
        fields += [Field("IsExternal", "No"), Field("DestType", "Bridge"), Field("DestBridgeUniqueid", bridge.uniqueID)]
        return ManagerEvent(name: "AttendedTransfer", class: .call, fields: fields)
    }
}

extension BridgeSnapshot {
    /// The bridge block with each key prefixed (`OrigBridgeUniqueid`), as transfer events show it.
    func fields(prefix: String) -> [ManagerEvent.Field] {
        fields.map { ManagerEvent.Field(prefix + $0.key, $0.value) }
    }
}
