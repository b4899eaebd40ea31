import PBXCore
import Testing
@testable import Webhooks

/// call.ended's `recording_url`: the link the HTTP port's signer makes for the MixMonitor file.
@Suite struct RecordingURLTests {
    private func event(_ name: String, at time: Double, _ fields: [(String, String)]) -> ManagerEvent {
        ManagerEvent(name: name, class: .call, fields: fields.map { ManagerEvent.Field($0.0, $0.1) }, timestamp: time)
    }

    private let caller = [("Channel", "SIP/1001-00000001"), ("CallerIDNum", "1001"), ("Exten", "702"),
                          ("Uniqueid", "100.1"), ("Linkedid", "100.1")]

    private func ended(_ mapper: inout CallEventMapper, recording: String?) -> [String: WebhookValue] {
        _ = mapper.map(event("Newchannel", at: 0, caller))
        if let recording {
            _ = mapper.map(event("VarSet", at: 1, caller + [("Variable", "MIXMONITOR_FILENAME"), ("Value", recording)]))
        }
        return mapper.map(event("Hangup", at: 9, caller + [("Cause", "16")])).last?.data ?? [:]
    }

    @Test func recordedCallsCarryTheSignedLink() {
        var mapper = CallEventMapper(recordingLink: { file in file.hasPrefix("/rec/") ? "http://pbx/recordings/\(file.dropFirst(5))?sig=x" : nil })
        let data = ended(&mapper, recording: "/rec/2026/11/22/a.wav")
        #expect(data["recording_file"] == .string("/rec/2026/11/22/a.wav"))
        #expect(data["recording_url"] == .string("http://pbx/recordings/2026/11/22/a.wav?sig=x"))
        // A file the signer will not link (outside the recordings) gets null.
        #expect(ended(&mapper, recording: "/elsewhere/b.wav")["recording_url"] == .null)
        #expect(ended(&mapper, recording: nil)["recording_url"] == .null)
    }

    @Test func withoutAnHTTPPortTheLinkIsNull() {
        var mapper = CallEventMapper()
        let data = ended(&mapper, recording: "/rec/a.wav")
        #expect(data["recording_file"] == .string("/rec/a.wav") && data["recording_url"] == .null)
    }
}
