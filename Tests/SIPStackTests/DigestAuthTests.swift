import Testing

@testable import SIPStack

@Suite("Digest computation and parsing")
struct DigestComputationTests {
    /// RFC 2617 §3.5 (MD5, qop=auth).
    @Test func rfc2617Example() throws {
        let value = """
            Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", \
            uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", \
            response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"
            """
        let credentials = try DigestCredentials.parse(value)
        #expect(credentials.username == "Mufasa")
        #expect(credentials.algorithm == .md5)
        #expect(credentials.nonceCount == 1)
        let ha1 = try #require(
            DigestComputation.ha1(algorithm: .md5, username: "Mufasa", realm: "testrealm@host.com", secret: .password("Circle Of Life")))
        let response = DigestComputation.response(
            algorithm: .md5, ha1: ha1, method: "GET", uri: credentials.uri, nonce: credentials.nonce,
            qop: credentials.qop, nc: credentials.nc, cnonce: credentials.cnonce)
        #expect(response == credentials.response)
        // md5secret form: the same HA1 given directly.
        #expect(DigestComputation.ha1(algorithm: .md5, username: "x", realm: "y", secret: .md5HA1(ha1.uppercased())) == ha1)
        #expect(DigestComputation.ha1(algorithm: .sha256, username: "x", realm: "y", secret: .md5HA1(ha1)) == nil)
    }

    /// RFC 7616 §3.9.1, SHA-256 and MD5 responses to the same challenge.
    @Test(arguments: [
        (DigestAlgorithm.sha256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        (DigestAlgorithm.md5, "8ca523f5e9506fed4657c9700eebdbec"),
    ])
    func rfc7616Example(algorithm: DigestAlgorithm, expected: String) throws {
        let ha1 = try #require(
            DigestComputation.ha1(
                algorithm: algorithm, username: "Mufasa", realm: "http-auth@example.org", secret: .password("Circle of Life")))
        let response = DigestComputation.response(
            algorithm: algorithm, ha1: ha1, method: "GET", uri: "/dir/index.html",
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", qop: "auth", nc: "00000001",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        #expect(response == expected)
    }

    @Test func parsesQuotedEscapesAndUnquotedTokens() throws {
        let credentials = try DigestCredentials.parse(
            #"digest  username = "a\"b" ,realm="r",nonce="n", uri="sip:x@y", response="abc", algorithm=sha-256"#)
        #expect(credentials.username == #"a"b"#)
        #expect(credentials.algorithm == .sha256)
        #expect(credentials.qop == nil)
        // Round trip through the serialiser.
        #expect(try DigestCredentials.parse(credentials.description) == credentials)
    }

    @Test func rejectsMalformedCredentials() {
        #expect(throws: DigestParseError.notDigest) { try DigestCredentials.parse(#"Basic dXNlcjpwYXNz"#) }
        #expect(throws: DigestParseError.missing("response")) {
            try DigestCredentials.parse(#"Digest username="a", realm="r", nonce="n", uri="u""#)
        }
        #expect(throws: DigestParseError.duplicate("response")) {
            try DigestCredentials.parse(#"Digest username="a", realm="r", nonce="n", uri="u", response="1", response="2""#)
        }
        #expect(throws: DigestParseError.malformed("nc")) {
            try DigestCredentials.parse(
                #"Digest username="a", realm="r", nonce="n", uri="u", response="1", qop=auth, cnonce="c", nc=1"#)
        }
        #expect(throws: DigestParseError.self) { try DigestCredentials.parse(#"Digest username="a"#) }
        #expect(throws: DigestParseError.tooLong) {
            try DigestCredentials.parse("Digest username=\"" + String(repeating: "a", count: 5000) + "\"")
        }
    }

    @Test func constantTimeEquals() {
        #expect(DigestComputation.constantTimeEquals(Array("abcd".utf8), Array("abcd".utf8)))
        #expect(!DigestComputation.constantTimeEquals(Array("abce".utf8), Array("abcd".utf8)))
        #expect(!DigestComputation.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!DigestComputation.constantTimeEquals(Array("abcde".utf8), Array("abcd".utf8)))
        #expect(!DigestComputation.constantTimeEquals([UInt8](), Array("a".utf8)))
    }
}

/// A user agent's side of the exchange, built on the same computation the RFC vectors pin.
private func answer(
    _ challenge: String, method: SIPMethod = .register, username: String, password: String,
    algorithm: DigestAlgorithm, uri: String = "sip:pbxd.example", nc: UInt32? = 1, cnonce: String = "0a4f113b"
) throws -> DigestCredentials {
    let params = try AuthParamScanner.scan(String(challenge.dropFirst("Digest".count)))
    let realm = try #require(params["realm"])
    let nonce = try #require(params["nonce"])
    let ha1 = try #require(DigestComputation.ha1(algorithm: algorithm, username: username, realm: realm, secret: .password(password)))
    let ncText = nc.map { String(repeating: "0", count: 8 - String($0, radix: 16).count) + String($0, radix: 16) }
    let response = DigestComputation.response(
        algorithm: algorithm, ha1: ha1, method: method.description, uri: uri, nonce: nonce,
        qop: ncText == nil ? nil : "auth", nc: ncText, cnonce: ncText == nil ? nil : cnonce)
    return DigestCredentials(
        username: username, realm: realm, nonce: nonce, uri: uri, response: response, algorithm: algorithm,
        cnonce: ncText == nil ? nil : cnonce, qop: ncText == nil ? nil : "auth", nc: ncText, opaque: params["opaque"])
}

@Suite("DigestAuthenticator")
struct DigestAuthenticatorTests {
    let t0 = ContinuousClock.now
    func makeAuthenticator(_ settings: DigestSettings = DigestSettings(realm: "pbxd")) -> DigestAuthenticator {
        DigestAuthenticator(settings: settings, epoch: t0)
    }

    @Test func challengeOffersSHA256ThenMD5() throws {
        let auth = makeAuthenticator()
        let values = auth.challenges(now: t0)
        #expect(values.count == 2)
        #expect(values[0].hasPrefix(#"Digest realm="pbxd", nonce=""#))
        #expect(values[0].contains("algorithm=SHA-256"))
        #expect(values[1].contains("algorithm=MD5"))
        #expect(values.allSatisfy { $0.contains(#"qop="auth""#) && !$0.contains("stale") })
        #expect(auth.challenges(now: t0, stale: true)[0].hasSuffix(", stale=true"))
        // Each challenge gets a fresh nonce.
        #expect(auth.makeNonce(now: t0) != auth.makeNonce(now: t0))
    }

    @Test(arguments: DigestAlgorithm.allCases)
    func correctResponseIsAccepted(algorithm: DigestAlgorithm) throws {
        var auth = makeAuthenticator()
        let challenge = auth.challenges(now: t0)[algorithm == .sha256 ? 0 : 1]
        let credentials = try answer(challenge, username: "1001", password: "pass1001", algorithm: algorithm)
        #expect(auth.verify(method: .register, credentials: credentials, secret: .password("pass1001"), now: t0 + .seconds(1)) == .ok)
    }

    @Test func md5SecretVerifiesMD5Only() throws {
        var auth = makeAuthenticator()
        let ha1 = DigestAlgorithm.md5.hexDigest("1001:pbxd:pass1001")
        let md5 = try answer(auth.challenges(now: t0)[1], username: "1001", password: "pass1001", algorithm: .md5)
        #expect(auth.verify(method: .register, credentials: md5, secret: .md5HA1(ha1), now: t0) == .ok)
        let sha = try answer(auth.challenges(now: t0)[0], username: "1001", password: "pass1001", algorithm: .sha256)
        #expect(auth.verify(method: .register, credentials: sha, secret: .md5HA1(ha1), now: t0) == .failed)
    }

    @Test func wrongUserAndWrongPasswordLookTheSame() throws {
        var auth = makeAuthenticator()
        let challenge = auth.challenges(now: t0)[0]
        let wrongPassword = try answer(challenge, username: "1001", password: "guess", algorithm: .sha256)
        let unknownUser = try answer(challenge, username: "9999", password: "guess", algorithm: .sha256, cnonce: "x")
        let a = auth.verify(method: .register, credentials: wrongPassword, secret: .password("pass1001"), now: t0)
        let b = auth.verify(method: .register, credentials: unknownUser, secret: nil, now: t0)
        #expect(a == .failed && b == .failed)
        // Even the right "password" for a user that does not exist fails (the decoy is random).
        let decoyGuess = try answer(challenge, username: "9999", password: "", algorithm: .sha256, cnonce: "y")
        #expect(auth.verify(method: .register, credentials: decoyGuess, secret: nil, now: t0) == .failed)
        // And once expired, neither turns into `stale` (which would confirm the user exists).
        let later = t0 + .seconds(120)
        #expect(auth.verify(method: .register, credentials: wrongPassword, secret: .password("pass1001"), now: later) == .failed)
        #expect(auth.verify(method: .register, credentials: unknownUser, secret: nil, now: later) == .failed)
    }

    @Test func expiredNonceWithRightPasswordIsStale() throws {
        var auth = makeAuthenticator(DigestSettings(realm: "pbxd", nonceLifetime: .seconds(60)))
        let credentials = try answer(auth.challenges(now: t0)[0], username: "1001", password: "pass1001", algorithm: .sha256)
        #expect(auth.verify(method: .register, credentials: credentials, secret: .password("pass1001"), now: t0 + .seconds(61)) == .stale)
        // Within the lifetime the same answer is fine.
        #expect(auth.verify(method: .register, credentials: credentials, secret: .password("pass1001"), now: t0 + .seconds(59)) == .ok)
    }

    @Test func nonceCountReplayIsRejected() throws {
        var auth = makeAuthenticator()
        let challenge = auth.challenges(now: t0)[0]
        let first = try answer(challenge, username: "1001", password: "pass1001", algorithm: .sha256, nc: 1)
        #expect(auth.verify(method: .register, credentials: first, secret: .password("pass1001"), now: t0) == .ok)
        #expect(auth.verify(method: .register, credentials: first, secret: .password("pass1001"), now: t0) == .stale)
        let second = try answer(challenge, username: "1001", password: "pass1001", algorithm: .sha256, nc: 2)
        #expect(auth.verify(method: .register, credentials: second, secret: .password("pass1001"), now: t0) == .ok)
        #expect(auth.verify(method: .register, credentials: first, secret: .password("pass1001"), now: t0) == .stale)
    }

    @Test func rfc2069ResponsesAreSingleUse() throws {
        var auth = makeAuthenticator()
        let credentials = try answer(auth.challenges(now: t0)[1], username: "1001", password: "pass1001", algorithm: .md5, nc: nil)
        #expect(credentials.qop == nil)
        #expect(auth.verify(method: .register, credentials: credentials, secret: .password("pass1001"), now: t0) == .ok)
        #expect(auth.verify(method: .register, credentials: credentials, secret: .password("pass1001"), now: t0) == .stale)

        var strict = makeAuthenticator(DigestSettings(realm: "pbxd", acceptRFC2069: false))
        let other = try answer(strict.challenges(now: t0)[1], username: "1001", password: "pass1001", algorithm: .md5, nc: nil)
        #expect(strict.verify(method: .register, credentials: other, secret: .password("pass1001"), now: t0) == .failed)
    }

    @Test func forgedOrForeignNoncesFail() throws {
        var auth = makeAuthenticator()
        var credentials = try answer(auth.challenges(now: t0)[0], username: "1001", password: "pass1001", algorithm: .sha256)
        // A nonce from another process (another key) is not ours.
        let other = DigestAuthenticator(settings: DigestSettings(realm: "pbxd"), epoch: t0)
        let foreign = try answer(other.challenges(now: t0)[0], username: "1001", password: "pass1001", algorithm: .sha256)
        #expect(auth.verify(method: .register, credentials: foreign, secret: .password("pass1001"), now: t0) == .failed)
        // The method is bound into the digest.
        #expect(auth.verify(method: .invite, credentials: credentials, secret: .password("pass1001"), now: t0) == .failed)
        // Wrong realm, wrong opaque, unsupported algorithm.
        var wrongRealm = credentials
        wrongRealm.realm = "other"
        #expect(auth.verify(method: .register, credentials: wrongRealm, secret: .password("pass1001"), now: t0) == .failed)
        var wrongOpaque = credentials
        wrongOpaque.opaque = "00"
        #expect(auth.verify(method: .register, credentials: wrongOpaque, secret: .password("pass1001"), now: t0) == .failed)
        var sess = credentials
        sess.algorithmToken = "MD5-sess"
        #expect(auth.verify(method: .register, credentials: sess, secret: .password("pass1001"), now: t0) == .failed)
        // A nonce presented before its issue time (clock games) fails.
        let future = try answer(auth.challenges(now: t0 + .seconds(30))[0], username: "1001", password: "pass1001", algorithm: .sha256)
        #expect(auth.verify(method: .register, credentials: future, secret: .password("pass1001"), now: t0) == .failed)
        // Uppercase hex in the response is accepted.
        credentials.response = credentials.response.uppercased()
        #expect(auth.verify(method: .register, credentials: credentials, secret: .password("pass1001"), now: t0) == .ok)
    }

    @Test func evictedNonceIsNotTrustedAgain() throws {
        var auth = makeAuthenticator(DigestSettings(realm: "pbxd", nonceTableCapacity: 2))
        let challenges = (0..<3).map { auth.challenges(now: t0 + .milliseconds($0))[0] }
        let answers = try challenges.map { try answer($0, username: "1001", password: "pass1001", algorithm: .sha256, nc: 1) }
        for a in answers {
            #expect(auth.verify(method: .register, credentials: a, secret: .password("pass1001"), now: t0 + .seconds(1)) == .ok)
        }
        // The first nonce was pushed out of the table; replaying its nc=1 must not succeed.
        #expect(auth.verify(method: .register, credentials: answers[0], secret: .password("pass1001"), now: t0 + .seconds(1)) == .stale)
    }

    @Test func findsCredentialsForOurRealm() throws {
        let auth = makeAuthenticator()
        let mine = try answer(auth.challenges(now: t0)[0], username: "1001", password: "pass1001", algorithm: .sha256)
        var foreign = mine
        foreign.realm = "upstream"
        let headers = SIPHeaders(
            vias: [], from: NameAddress(uri: SIPURI(host: "h")), to: NameAddress(uri: SIPURI(host: "h")), callID: "c",
            cseq: CSeq(number: 1, method: .register),
            other: [("Authorization", foreign.description), ("Authorization", "garbage"), ("Authorization", mine.description)])
        #expect(auth.credentials(in: headers, kind: .www) == mine)
        #expect(auth.credentials(in: headers, kind: .proxy) == nil)
        #expect(DigestChallengeKind.proxy.statusCode == 407)
        #expect(DigestChallengeKind.www.challengeHeaderName == "WWW-Authenticate")
    }
}

@Suite("AuthThrottle")
struct AuthThrottleTests {
    @Test func blocksAfterRepeatedFailuresAndRecovers() {
        let t0 = ContinuousClock.now
        var throttle = AuthThrottle(
            settings: .init(maxFailures: 3, window: .seconds(60), initialBlock: .seconds(30), maxBlock: .seconds(100)))
        #expect(throttle.recordFailure(source: "192.0.2.9", now: t0) == .allow)
        #expect(throttle.recordFailure(source: "192.0.2.9", now: t0 + .seconds(1)) == .allow)
        #expect(throttle.recordFailure(source: "192.0.2.9", now: t0 + .seconds(2)) == .blocked(until: t0 + .seconds(32)))
        #expect(throttle.check(source: "192.0.2.9", now: t0 + .seconds(10)) == .blocked(until: t0 + .seconds(32)))
        #expect(throttle.check(source: "192.0.2.10", now: t0 + .seconds(10)) == .allow)
        #expect(throttle.check(source: "192.0.2.9", now: t0 + .seconds(33)) == .allow)
        // Second strike doubles, third is capped at maxBlock.
        for i in 0..<3 { throttle.recordFailure(source: "192.0.2.9", now: t0 + .seconds(40 + i)) }
        #expect(throttle.check(source: "192.0.2.9", now: t0 + .seconds(42)) == .blocked(until: t0 + .seconds(102)))
        for i in 0..<3 { throttle.recordFailure(source: "192.0.2.9", now: t0 + .seconds(110 + i)) }
        #expect(throttle.check(source: "192.0.2.9", now: t0 + .seconds(112)) == .blocked(until: t0 + .seconds(212)))
        // A success resets everything.
        throttle.recordSuccess(source: "192.0.2.9")
        #expect(throttle.check(source: "192.0.2.9", now: t0 + .seconds(113)) == .allow)
        #expect(throttle.recordFailure(source: "192.0.2.9", now: t0 + .seconds(113)) == .allow)
    }

    @Test func failuresOutsideTheWindowDoNotAccumulate() {
        let t0 = ContinuousClock.now
        var throttle = AuthThrottle(settings: .init(maxFailures: 2, window: .seconds(10)))
        #expect(throttle.recordFailure(source: "a", now: t0) == .allow)
        #expect(throttle.recordFailure(source: "a", now: t0 + .seconds(11)) == .allow)
        #expect(throttle.recordFailure(source: "a", now: t0 + .seconds(12)) != .allow)
    }

    @Test func tableIsBounded() {
        let t0 = ContinuousClock.now
        var throttle = AuthThrottle(settings: .init(maxFailures: 5, capacity: 100))
        for i in 0..<10_000 { throttle.recordFailure(source: "10.0.\(i / 256).\(i % 256)", now: t0) }
        #expect(throttle.trackedSources == 100)
    }
}
