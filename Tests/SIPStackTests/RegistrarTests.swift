import Foundation
import Testing

@testable import SIPStack

private func makeRegister(
    aor: String = "1001", contact: String? = "192.168.1.50", contactPort: Int? = 5062, contactExpires: Int? = nil,
    expiresHeader: Int? = nil, wildcard: Bool = false, callID: String = "call-1", cseq: UInt32 = 1,
    instance: String? = nil
) -> SIPRequest {
    let to = NameAddress(uri: SIPURI(user: aor, host: "pbxd.example"))
    var from = to
    from.tag = "abc"
    var contacts: [NameAddress] = []
    if let contact {
        var parameters = SIPParameters()
        if let contactExpires { parameters["expires"] = String(contactExpires) }
        if let instance { parameters["+sip.instance"] = instance }
        contacts.append(NameAddress(uri: SIPURI(user: aor, host: contact, port: contactPort), parameters: parameters))
    }
    var headers = SIPHeaders(
        vias: [Via(transport: "UDP", host: "192.168.1.50", port: 5062, parameters: SIPParameters([.init(name: "branch", value: "z9hG4bK1")]))],
        from: from, to: to, callID: callID, cseq: CSeq(number: cseq, method: .register), contacts: contacts,
        contactWildcard: wildcard)
    if let expiresHeader { headers.add("Expires", String(expiresHeader)) }
    headers.add("User-Agent", "Linphone/5.2")
    return SIPRequest(method: .register, uri: SIPURI(host: "pbxd.example"), headers: headers)
}

private let natSource = RegistrationSource(host: "203.0.113.7", port: 40123, transport: "udp")

@Suite("Registrar")
struct RegistrarTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func registersWithNATSourceAndClampsExpires() throws {
        var registrar = Registrar(policy: RegistrarPolicy(minExpires: 60, maxExpires: 3600, defaultExpires: 120))
        let outcome = registrar.register(makeRegister(expiresHeader: 7200), aor: "1001", source: natSource, now: now)
        #expect(outcome.changed)
        guard case .ok(let contacts) = outcome.decision else { Issue.record("expected 200"); return }
        #expect(contacts.count == 1)
        #expect(contacts[0].parameters["expires"] == "3600")
        let binding = try #require(registrar.bindings(for: "1001", now: now).first)
        #expect(binding.source == RegistrationSource(host: "203.0.113.7", port: 40123, transport: "UDP"))
        #expect(binding.contact.host == "192.168.1.50")
        #expect(binding.userAgent == "Linphone/5.2")
        #expect(binding.remainingSeconds(now: now + 100) == 3500)
        // No Expires at all: defaultexpiry.
        let second = registrar.register(makeRegister(aor: "1002"), aor: "1002", source: natSource, now: now)
        #expect(second.decision == .ok(contacts: [registrar.bindings(for: "1002", now: now)[0].contactHeader(now: now)]))
        #expect(registrar.bindings(for: "1002", now: now)[0].remainingSeconds(now: now) == 120)
        let ok = second.decision.response(to: makeRegister(aor: "1002"), toTag: "tag9")
        #expect(ok.statusCode == 200)
        #expect(ok.headers.contacts.first?.parameters["expires"] == "120")
        #expect(ok.headers["Expires"] == "120")
    }

    @Test func tooBriefIsRejectedWith423AndChangesNothing() {
        var registrar = Registrar()
        let outcome = registrar.register(makeRegister(contactExpires: 30, expiresHeader: 3600), aor: "1001", source: natSource, now: now)
        #expect(outcome.decision == .intervalTooBrief(minExpires: 60))
        #expect(!outcome.changed)
        #expect(registrar.bindings(for: "1001", now: now).isEmpty)
        let request = makeRegister(contactExpires: 30)
        let response = outcome.decision.response(to: request, toTag: "t1")
        #expect(response.statusCode == 423)
        #expect(response.headers["Min-Expires"] == "60")
        #expect(response.headers.to.tag == "t1")
        #expect(response.headers.callID == request.headers.callID)
    }

    @Test func newRegistrationReplacesOldContactLikeChanSIP() {
        var registrar = Registrar()
        _ = registrar.register(makeRegister(contact: "10.0.0.1", cseq: 1), aor: "1001", source: natSource, now: now)
        _ = registrar.register(makeRegister(contact: "10.0.0.2", callID: "call-2", cseq: 1), aor: "1001", source: natSource, now: now)
        let bindings = registrar.bindings(for: "1001", now: now)
        #expect(bindings.map(\.contact.host) == ["10.0.0.2"])
    }

    @Test func unregisterOneAndWildcard() {
        var registrar = Registrar(policy: RegistrarPolicy(maxContacts: 2))
        _ = registrar.register(makeRegister(contact: "10.0.0.1", cseq: 1), aor: "1001", source: natSource, now: now)
        _ = registrar.register(makeRegister(contact: "10.0.0.2", cseq: 2), aor: "1001", source: natSource, now: now)
        #expect(registrar.bindings(for: "1001", now: now).count == 2)
        // Expires: 0 on one contact removes that one only.
        let one = registrar.register(makeRegister(contact: "10.0.0.1", expiresHeader: 0, cseq: 3), aor: "1001", source: natSource, now: now)
        #expect(one.changed)
        #expect(registrar.bindings(for: "1001", now: now).map(\.contact.host) == ["10.0.0.2"])
        // `*` without Expires: 0 is a 400.
        let bad = registrar.register(makeRegister(contact: nil, wildcard: true, cseq: 4), aor: "1001", source: natSource, now: now)
        #expect(bad.decision.statusCode == 400)
        #expect(registrar.bindings(for: "1001", now: now).count == 1)
        // `*` with Expires: 0 removes all.
        let all = registrar.register(makeRegister(contact: nil, expiresHeader: 0, wildcard: true, cseq: 5), aor: "1001", source: natSource, now: now)
        #expect(all.decision == .ok(contacts: []))
        #expect(all.changed)
        #expect(registrar.bindings(for: "1001", now: now).isEmpty)
    }

    @Test func cseqMustIncreaseWithinACallID() {
        var registrar = Registrar()
        _ = registrar.register(makeRegister(callID: "c", cseq: 5), aor: "1001", source: natSource, now: now)
        for stale: UInt32 in [5, 4] {
            let outcome = registrar.register(makeRegister(expiresHeader: 0, callID: "c", cseq: stale), aor: "1001", source: natSource, now: now)
            #expect(outcome.decision == .badRequest(reason: "Out of order CSeq"))
            #expect(!outcome.changed)
        }
        #expect(registrar.bindings(for: "1001", now: now).count == 1)
        // A different Call-ID (phone rebooted) is fine with any CSeq.
        #expect(registrar.register(makeRegister(callID: "d", cseq: 1), aor: "1001", source: natSource, now: now).decision.statusCode == 200)
        #expect(registrar.register(makeRegister(callID: "d", cseq: 2), aor: "1001", source: natSource, now: now).decision.statusCode == 200)
    }

    @Test func queryAndBadExpires() {
        var registrar = Registrar()
        _ = registrar.register(makeRegister(instance: "\"<urn:uuid:1234>\""), aor: "1001", source: natSource, now: now)
        let query = registrar.register(makeRegister(contact: nil, cseq: 2), aor: "1001", source: natSource, now: now + 20)
        guard case .ok(let contacts) = query.decision else { Issue.record("expected 200"); return }
        #expect(!query.changed)
        #expect(contacts.first?.parameters["expires"] == "100")
        #expect(contacts.first?.parameters["+sip.instance"] == "\"<urn:uuid:1234>\"")
        var request = makeRegister(cseq: 3)
        request.headers.set("Expires", "soon")
        #expect(registrar.register(request, aor: "1001", source: natSource, now: now).decision.statusCode == 400)
        #expect(Registrar.parseDeltaSeconds("99999999999999") == Int(UInt32.max))
        #expect(Registrar.parseDeltaSeconds(" 42 ") == 42)
        #expect(Registrar.parseDeltaSeconds("-1") == nil)
    }

    @Test func bindingsExpireWithTheInjectedClock() {
        var registrar = Registrar()
        _ = registrar.register(makeRegister(expiresHeader: 60), aor: "1001", source: natSource, now: now)
        _ = registrar.register(makeRegister(aor: "1002", expiresHeader: 600), aor: "1002", source: natSource, now: now)
        #expect(registrar.expire(now: now + 59).isEmpty)
        #expect(registrar.bindings(for: "1001", now: now + 61).isEmpty)
        let removed = registrar.expire(now: now + 61)
        #expect(removed.map(\.aor) == ["1001"])
        #expect(registrar.allBindings.map(\.aor) == ["1002"])
    }

    @Test func persistenceRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pbxd-reg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = RegistrationStore(directory: directory + "/data")  // created on first save
        #expect(try store.load(now: now).isEmpty)

        var registrar = Registrar()
        _ = registrar.register(makeRegister(expiresHeader: 60, instance: "\"<urn:uuid:1>\""), aor: "1001", source: natSource, now: now)
        var tcp = makeRegister(aor: "1002", expiresHeader: 3600)
        tcp.headers.contacts[0].uri.parameters["transport"] = "tcp"
        _ = registrar.register(tcp, aor: "1002", source: RegistrationSource(host: "2001:db8::5", port: 5060, transport: "tcp"), now: now)
        try store.save(registrar.allBindings)
        #expect(!FileManager.default.fileExists(atPath: store.path + ".tmp"))

        let restored = try store.load(now: now + 10)
        #expect(restored == registrar.allBindings)
        #expect(restored[1].contact.parameters["transport"] == "tcp")
        // After a restart past 1001's expiry only 1002 comes back.
        #expect(try store.load(now: now + 120).map(\.aor) == ["1002"])
        let reloaded = Registrar(bindings: try store.load(now: now + 120))
        #expect(reloaded.bindings(for: "1002", now: now + 120).first?.source.host == "2001:db8::5")

        try "not json".write(toFile: store.path, atomically: true, encoding: .utf8)
        #expect(throws: RegistrationStore.StoreError.self) { try store.load(now: now) }
    }
}
