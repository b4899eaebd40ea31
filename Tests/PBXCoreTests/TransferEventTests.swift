import Testing

@testable import PBXCore

/// The BlindTransfer event's layout (ami.md §10.6): Result, the Transferer and Transferee
/// blocks, the bridge block, IsExternal, Context, Extension — in that order, class call.
@Suite struct TransferEventTests {
    @Test func blindTransferCarriesBothPartiesTheBridgeAndTheTarget() {
        let transferer = ChannelSnapshot(name: "SIP/811-00000002", state: .up, callerIDNumber: "811", uniqueID: "1.2", linkedID: "1.1")
        let transferee = ChannelSnapshot(name: "SIP/1001-00000001", state: .up, callerIDNumber: "1001", uniqueID: "1.1", linkedID: "1.1")
        let bridge = BridgeSnapshot(uniqueID: "b-1", channelCount: 2)
        let event = ManagerEvent.blindTransfer(result: "Success", transferer: transferer, transferee: transferee, bridge: bridge,
                                               context: "internal", exten: "1002")
        #expect(event.name == "BlindTransfer" && event.eventClass == .call)
        let keys = event.fields.map(\.key)
        #expect(keys.first == "Result" && keys.suffix(3) == ["IsExternal", "Context", "Extension"])
        let lastTransferer = keys.lastIndex { $0.hasPrefix("Transferer") } ?? keys.count
        let firstTransferee = keys.firstIndex(of: "TransfereeChannel") ?? -1
        let bridgeKey = keys.firstIndex(of: "BridgeUniqueid") ?? -1
        #expect(lastTransferer < firstTransferee && firstTransferee < bridgeKey)
        #expect(event["TransfererChannel"] == "SIP/811-00000002" && event["TransfereeUniqueid"] == "1.1")
        #expect(event["BridgeUniqueid"] == "b-1" && event["BridgeNumChannels"] == "2")
        #expect(event["Result"] == "Success" && event["Context"] == "internal" && event["Extension"] == "1002")
    }
}
