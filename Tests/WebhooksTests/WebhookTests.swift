import Crypto
import Foundation
import PBXCore
import Storage
import Testing
@testable import Webhooks

@Suite struct CallEventMapperTests {
    private func event(_ name: String, at time: Double, _ fields: [(String, String)]) -> ManagerEvent {
        ManagerEvent(name: name, class: .call, fields: fields.map { ManagerEvent.Field($0.0, $0.1) }, timestamp: time)
    }

    private let caller = [("Channel", "SIP/trunk-00000001"), ("CallerIDNum", "5551234"), ("CallerIDName", "John Smith"),
                          ("Exten", "600"), ("Uniqueid", "100.1"), ("Linkedid", "100.1")]

    @Test func queueCallGivesIncomingRingingAnsweredEndedInOrder() {
        var mapper = CallEventMapper()
        var out: [WebhookEvent] = []
        out += mapper.map(event("Newchannel", at: 1000, caller))
        out += mapper.map(event("QueueCallerJoin", at: 1001, caller + [("Queue", "600")]))
        out += mapper.map(event("AgentCalled", at: 1002, caller + [("Queue", "600"), ("MemberName", "Agent 811"),
                                                                     ("Interface", "SIP/811"), ("DestChannel", "SIP/811-00000002")]))
        out += mapper.map(event("VarSet", at: 1003, caller + [("Variable", "MIXMONITOR_FILENAME"), ("Value", "/rec/a.wav")]))
        out += mapper.map(event("AgentConnect", at: 1005, caller + [("Queue", "600"), ("MemberName", "Agent 811")]))
        out += mapper.map(event("DialEnd", at: 1005, caller + [("DialStatus", "ANSWER")]))  // only the first answer counts
        out += mapper.map(event("Hangup", at: 1065.5, caller + [("Cause", "16")]))
        #expect(out.map(\.event) == ["call.incoming", "call.ringing", "call.answered", "call.ended"])
        #expect(Set(out.map(\.call)) == ["100.1"])
        #expect(Set(out.map(\.id)).count == 4, "each event its own idempotency id")
        #expect(out[0].data == ["caller_number": .string("5551234"), "caller_name": .string("John Smith"),
                                "called_number": .string("600"), "queue": .string("600")])
        #expect(out[1].data["agent"] == .string("Agent 811"))
        let ended = out[3].data
        #expect(ended["duration"] == .number(65) && ended["billsec"] == .number(60))
        #expect(ended["disposition"] == .string("ANSWERED") && ended["recording_file"] == .string("/rec/a.wav"))
    }

    @Test func unroutedCallsAnnounceThemselvesAtHangupWithTheirDisposition() {
        var mapper = CallEventMapper()
        _ = mapper.map(event("Newchannel", at: 0, caller))
        let busy = mapper.map(event("Hangup", at: 3, caller + [("Cause", "17")]))
        #expect(busy.map(\.event) == ["call.incoming", "call.ended"])
        #expect(busy[1].data["disposition"] == .string("BUSY") && busy[1].data["billsec"] == .number(0))
        // Callee legs (Uniqueid != Linkedid) are not calls of their own.
        let leg = [("Uniqueid", "100.2"), ("Linkedid", "100.1")]
        #expect(mapper.map(event("Newchannel", at: 5, leg)).isEmpty)
        #expect(mapper.map(event("Hangup", at: 6, leg)).isEmpty)
    }

    @Test func agentStateAndRawEvents() {
        var mapper = CallEventMapper()
        let state = mapper.map(event("QueueMemberPause", at: 1, [("Queue", "600"), ("MemberName", "Agent 811"), ("Paused", "1"),
                                                                  ("PausedReason", "lunch")]), raw: true)
        #expect(state.map(\.event) == ["ami.QueueMemberPause", "agent.state"])
        #expect(state[1].call == nil)
        #expect(state[1].data["reason"] == .string("lunch") && state[1].data["paused"] == .string("1"))
        #expect(state[0].data["PausedReason"] == .string("lunch"))
    }
}

@Suite struct WebhookConfigTests {
    private func file(_ text: String) throws -> ConfigFile {
        let path = NSTemporaryDirectory() + "pbxd-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try ConfigFile.load(path: path)
    }

    @Test func sectionsAreReadAndChecked() throws {
        let (configs, warnings) = try WebhookConfig.all(in: file("""
            [general]
            datadir = /tmp
            [webhook crm]
            url = http://127.0.0.1:8080/hook?x=1
            secret = s3cret
            events = call.incoming, call.ended, ami.AGIExecEnd
            colour = blue
            """))
        #expect(warnings.map(\.message) == ["unknown option 'colour' in [webhook crm]; ignored"])
        #expect(configs.count == 1)
        #expect(configs[0].name == "crm" && configs[0].url == WebhookURL("http://127.0.0.1:8080/hook?x=1"))
        #expect(configs[0].url.target == "/hook?x=1" && configs[0].url.port == 8080)
        #expect(configs[0].wants("call.ended") && !configs[0].wants("call.ringing") && configs[0].wants("ami.AGIExecEnd"))
        #expect(throws: ConfigError.self) { try WebhookConfig.all(in: file("[webhook a]\nurl=http://h/\n")) }
        #expect(throws: ConfigError.self) { try WebhookConfig.all(in: file("[webhook a]\nurl=https://h/\nsecret=x\n")) }
        #expect(throws: ConfigError.self) { try WebhookConfig.all(in: file("[webhook a]\nurl=http://h/\nsecret=x\ntimeout=0\n")) }
    }

    @Test func defaultPatternsTakeCallAndAgentEvents() throws {
        let config = try WebhookConfig.all(in: file("[webhook a]\nurl=http://h\nsecret=x\n")).configs[0]
        #expect(config.url.target == "/" && config.url.port == 80)
        #expect(config.wants("call.ringing") && config.wants("agent.state") && !config.wants("ami.Hangup"))
    }
}

@Suite struct WebhookOutboxTests {
    @Test func pendingEventsSurviveReopeningInOrderPerWebhook() async throws {
        let directory = NSTemporaryDirectory() + "outbox-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let storage = try Storage(directory: directory)
            let outbox = try WebhookOutbox(name: "crm", storage: storage)
            let other = try WebhookOutbox(name: "other", storage: storage)
            for n in 1...3 { try await outbox.append(id: "e\(n)", body: Array("{\"n\":\(n)}".utf8)) }
            try await other.append(id: "o1", body: Array("{}".utf8))
            let first = try await outbox.next()
            #expect(first.id == "e1" && first.body == "{\"n\":1}")
            #expect(try await outbox.next() == first, "the head stays until it is delivered")
            try await outbox.markDelivered(first)
        }
        // A restarted pbxd: a new Storage on the same file.
        let storage = try Storage(directory: directory)
        let reopened = try WebhookOutbox(name: "crm", storage: storage)
        #expect(try await reopened.pendingCount() == 2)
        let second = try await reopened.next()
        #expect(second.id == "e2" && second.body == "{\"n\":2}")
        try await reopened.markDelivered(second)
        let third = try await reopened.next()
        #expect(third.id == "e3" && third.seq > second.seq)
        try await reopened.markDelivered(third)
        #expect(try await reopened.pendingCount() == 0)
        // Each webhook has its own queue: delivering crm's left other's alone.
        #expect(try await WebhookOutbox(name: "other", storage: storage).next().id == "o1")
    }

    @Test func nextWaitsForAnAppend() async throws {
        let directory = NSTemporaryDirectory() + "outbox-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try WebhookOutbox(name: "crm", storage: Storage(directory: directory))
        let waiting = Task { try await outbox.next() }
        try await Task.sleep(for: .milliseconds(50))
        try await outbox.append(id: "late", body: Array("{}".utf8))
        #expect(try await waiting.value.id == "late")
    }

    @Test func anUnreadableRowIsDroppedNotBlocking() async throws {
        let directory = NSTemporaryDirectory() + "outbox-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try Storage(directory: directory)
        let outbox = try WebhookOutbox(name: "crm", storage: storage)
        try storage.writeNow { db in try outbox.queue.enqueue(Data("not json".utf8), in: db) }
        try await outbox.append(id: "good", body: Array("{}".utf8))
        await #expect(throws: WebhookOutbox.UnreadableEntry.self) { try await outbox.next() }
        #expect(try await outbox.next().id == "good")
    }

    @Test func signatureIsHexHMACSHA256OfTheBody() {
        let body = Array("{\"a\":1}".utf8)
        let expected = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data("key".utf8)))
            .map { String(format: "%02x", $0) }.joined()
        #expect(WebhookService.signature(body, secret: "key") == expected)
        #expect(expected.count == 64)
    }

    @Test func bodyIsSortedCompactJSONWithTheId() {
        let event = WebhookEvent(id: "abc", event: "call.ended", call: "1.2", timestamp: 5, data: ["b": .number(2), "a": .null])
        #expect(String(decoding: event.body(), as: UTF8.self)
            == #"{"call":"1.2","data":{"a":null,"b":2},"event":"call.ended","id":"abc","timestamp":5}"#)
    }
}
