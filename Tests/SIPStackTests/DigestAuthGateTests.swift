import Testing

@testable import SIPStack

@Suite("AuthGate")
struct DigestAuthGateTests {
    let t0 = ContinuousClock.now
    let secrets: [String: DigestSecret] = ["1001": .password("pass1001"), "1002": .password("pass1002")]

    func register(_ authorization: String? = nil) -> SIPRequest {
        let aor = NameAddress(uri: SIPURI(user: "1001", host: "pbxd"))
        var from = aor
        from.tag = "f"
        var headers = SIPHeaders(
            vias: [Via(transport: "UDP", host: "192.0.2.5", port: 5060)], from: from, to: aor, callID: "c1",
            cseq: CSeq(number: 1, method: .register))
        if let authorization { headers.add("Authorization", authorization) }
        return SIPRequest(method: .register, uri: SIPURI(host: "pbxd"), headers: headers)
    }

    /// Answers the challenge in `decision` like a phone would (first offered algorithm).
    func answer(_ decision: AuthDecision, user: String, password: String, nc: String = "00000001") throws -> String {
        guard case .challenge(_, let values, _) = decision else { throw CancellationError() }
        let params = try AuthParamScanner.scan(String(values[0].dropFirst("Digest".count)))
        let algorithm = try #require(params["algorithm"].flatMap { DigestAlgorithm(token: $0) })
        let ha1 = try #require(DigestComputation.ha1(algorithm: algorithm, username: user, realm: params["realm"]!, secret: .password(password)))
        let response = DigestComputation.response(
            algorithm: algorithm, ha1: ha1, method: "REGISTER", uri: "sip:pbxd", nonce: params["nonce"]!, qop: "auth",
            nc: nc, cnonce: "abcdef")
        return DigestCredentials(
            username: user, realm: params["realm"]!, nonce: params["nonce"]!, uri: "sip:pbxd", response: response,
            algorithm: algorithm, cnonce: "abcdef", qop: "auth", nc: nc, opaque: params["opaque"]
        ).description
    }

    func makeGate() -> AuthGate {
        AuthGate(
            authenticator: DigestAuthenticator(settings: DigestSettings(realm: "pbxd"), epoch: t0),
            throttle: AuthThrottle(settings: .init(maxFailures: 3, window: .seconds(60), initialBlock: .seconds(30))))
    }

    @Test func challengeThenAuthenticate() throws {
        var gate = makeGate()
        let first = gate.authenticate(register(), kind: .www, source: "192.0.2.5", now: t0) { secrets[$0] }
        let response = try #require(first.response(to: register(), toTag: "tt"))
        #expect(response.statusCode == 401)
        #expect(response.headers.values("WWW-Authenticate").count >= 2)
        let second = gate.authenticate(
            register(try answer(first, user: "1001", password: "pass1001")), kind: .www, source: "192.0.2.5",
            expectedUsername: "1001", now: t0 + .seconds(1)
        ) { secrets[$0] }
        #expect(second == .authenticated(username: "1001"))
        #expect(second.response(to: register(), toTag: "x") == nil)
    }

    @Test func wrongUserAndWrongPasswordGetTheSameAnswer() throws {
        var gate = makeGate()
        let challenge = gate.authenticate(register(), kind: .www, source: "192.0.2.5", now: t0) { secrets[$0] }
        let wrongPassword = gate.authenticate(
            register(try answer(challenge, user: "1001", password: "nope")), kind: .www, source: "192.0.2.5", now: t0) { secrets[$0] }
        let unknownUser = gate.authenticate(
            register(try answer(challenge, user: "7777", password: "nope")), kind: .www, source: "192.0.2.6", now: t0) { secrets[$0] }
        #expect(wrongPassword == .forbidden)
        #expect(unknownUser == wrongPassword)
        // Another peer's valid credentials cannot register 1001.
        let otherPeer = gate.authenticate(
            register(try answer(challenge, user: "1002", password: "pass1002")), kind: .www, source: "192.0.2.7",
            expectedUsername: "1001", now: t0) { secrets[$0] }
        #expect(otherPeer == .forbidden)
    }

    @Test func staleNonceGetsStaleChallenge() throws {
        var gate = makeGate()
        let challenge = gate.authenticate(register(), kind: .proxy, source: "192.0.2.5", now: t0) { secrets[$0] }
        let late = gate.authenticate(
            register(try answer(challenge, user: "1001", password: "pass1001")), kind: .www, source: "192.0.2.5",
            now: t0 + .seconds(61)) { secrets[$0] }
        guard case .challenge(let kind, let values, let stale) = late else { Issue.record("\(late)"); return }
        #expect(kind == .www && stale)
        #expect(values.allSatisfy { $0.hasSuffix("stale=true") })
    }

    @Test func throttleBlocksEvenTheRightPasswordThenRecovers() throws {
        var gate = makeGate()
        let source = "198.51.100.9"
        let challenge = gate.authenticate(register(), kind: .www, source: source, now: t0) { secrets[$0] }
        for i in 0..<3 {
            let bad = try answer(challenge, user: "1001", password: "guess\(i)")
            #expect(gate.authenticate(register(bad), kind: .www, source: source, now: t0) { secrets[$0] } == .forbidden)
        }
        let good = try answer(challenge, user: "1001", password: "pass1001")
        #expect(gate.authenticate(register(good), kind: .www, source: source, now: t0 + .seconds(10)) { secrets[$0] } == .forbidden)
        // Other sources are unaffected.
        #expect(gate.authenticate(register(good), kind: .www, source: "192.0.2.99", now: t0 + .seconds(10)) { secrets[$0] }
            == .authenticated(username: "1001"))
        // After the block, the right password works (fresh nc on the same nonce) and clears the record.
        let again = try answer(challenge, user: "1001", password: "pass1001", nc: "00000002")
        #expect(gate.authenticate(register(again), kind: .www, source: source, now: t0 + .seconds(31)) { secrets[$0] }
            == .authenticated(username: "1001"))
        #expect(gate.throttle.trackedSources == 0)
    }
}
