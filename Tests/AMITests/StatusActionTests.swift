import Foundation
import PBXCore
import Testing

@testable import AMI

/// Status's per-channel event against Asterisk 18's capture (ami-06, `Status of one channel`).
@Suite struct StatusActionTests {
    /// The caller's leg of the captured call, as the registry would describe it.
    func capturedCaller(formats: ChannelFormats?) -> LiveChannel {
        let snapshot = ChannelSnapshot(
            name: "SIP/1001-00000009", state: .up, callerIDNumber: "1001", callerIDName: "User 1001",
            connectedLineNumber: "1002", connectedLineName: "User 1002", context: "internal", exten: "1002",
            uniqueID: "1795306739.9", linkedID: "1795306739.9")
        return LiveChannel(
            snapshot: snapshot, createdAt: Date(timeIntervalSince1970: 1_795_306_739), dialedNumber: "1002",
            application: "Dial", applicationData: "SIP/1002,30", bridgeID: "20d8f1af-b315-4e7a-8516-045ca0495bb5",
            formats: formats)
    }

    @Test func matchesTheCapturedStatusEventFieldForField() {
        let fields = StatusAction.fields(
            of: capturedCaller(formats: ChannelFormats(codec: "ulaw")), timeToHangup: 0,
            now: Date(timeIntervalSince1970: 1_795_306_740.5))
        let captured = """
            Privilege: Call
            Channel: SIP/1001-00000009
            ChannelState: 6
            ChannelStateDesc: Up
            CallerIDNum: 1001
            CallerIDName: User 1001
            ConnectedLineNum: 1002
            ConnectedLineName: User 1002
            Language: en
            AccountCode: 
            Context: internal
            Exten: 1002
            Priority: 1
            Uniqueid: 1795306739.9
            Linkedid: 1795306739.9
            Type: SIP
            DNID: 1002
            EffectiveConnectedLineNum: 1002
            EffectiveConnectedLineName: User 1002
            TimeToHangup: 0
            BridgeID: 20d8f1af-b315-4e7a-8516-045ca0495bb5
            Application: Dial
            Data: SIP/1002,30
            Nativeformats: (ulaw)
            Readformat: ulaw
            Readtrans: 
            Writeformat: ulaw
            Writetrans: 
            Callgroup: 0
            Pickupgroup: 0
            Seconds: 1
            """
        #expect(fields.map { "\($0.key): \($0.value)" } == captured.split(separator: "\n").map(String.init))
    }

    @Test func reportsTheCodecAndTheTimeLeftItIsGiven() {
        let fields = StatusAction.fields(of: capturedCaller(formats: ChannelFormats(codec: "alaw")), timeToHangup: 7)
        func value(_ key: String) -> String? { fields.first { $0.key == key }?.value }
        #expect(value("Nativeformats") == "(alaw)" && value("Readformat") == "alaw" && value("Writeformat") == "alaw")
        #expect(value("TimeToHangup") == "7")
    }

    @Test func aChannelWithoutFormatsLeavesTheCodecFieldsOut() {
        let fields = StatusAction.fields(of: capturedCaller(formats: nil), timeToHangup: 0)
        #expect(!fields.contains { $0.key.hasSuffix("format") || $0.key.hasSuffix("formats") || $0.key.hasSuffix("trans") })
        #expect(fields.last?.key == "Seconds")
    }

    @Test func nativeFormatsAreNamedAsAsteriskJoinsThem() {
        #expect(ChannelFormats(native: ["ulaw", "alaw"], read: "ulaw", write: "ulaw").nativeDescription == "(ulaw|alaw)")
        #expect(ChannelFormats(native: [], read: "", write: "").nativeDescription == "(nothing)")
    }
}
