import NIOCore
import SIPStack
import Testing

@testable import PBXCore

/// Who may call and register: digest for phones, source address for `insecure=invite` trunks,
/// and the same 403 for every kind of wrong credential (no extension enumeration).
@Suite struct CallAuthenticatorTests {
    static let sipConf = """
        [general]
        realm=test
        [phone](!)
        type=friend
        host=dynamic
        context=internal
        [1001](phone)
        secret=right1001
        [1002](phone)
        secret=right1002
        permit=10.0.0.0/8
        deny=0.0.0.0/0
        [trunk]
        type=peer
        host=192.0.2.7
        insecure=port,invite
        context=from-trunk
        """

    let authenticator: CallAuthenticator
    let phone = SIPTransportAddress(transport: .udp, address: try! SocketAddress(ipAddress: "127.0.0.1", port: 5070))

    init() throws {
        authenticator = CallAuthenticator(config: try SIPConfig(ConfigFile.parse(Self.sipConf, fileName: "sip.conf")))
    }

    func request(_ method: String, user: String, authorization: String? = nil) throws -> SIPRequest {
        let header = method == "REGISTER" ? "Authorization" : "Proxy-Authorization"
        let text = """
            \(method) sip:1002@127.0.0.1 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK\(Int.random(in: 1...1_000_000))\r
            From: <sip:\(user)@127.0.0.1>;tag=a1\r
            To: <sip:\(method == "REGISTER" ? user : "1002")@127.0.0.1>\r
            Call-ID: c1@127.0.0.1\r
            CSeq: 1 \(method)\r
            Max-Forwards: 70\r
            \(authorization.map { "\(header): \($0)\r\n" } ?? "")Content-Length: 0\r
            \r

            """
        guard case .request(let request) = try SIPParser.parse(bytes: Array(text.utf8)) else {
            throw ConfigError("not a request", at: nil)
        }
        return request
    }

    /// Answers a challenge the way a phone does (MD5, qop=auth).
    func answer(_ challenge: SIPResponse, method: String, user: String, password: String) throws -> String {
        let name = challenge.statusCode == 401 ? "WWW-Authenticate" : "Proxy-Authenticate"
        let value = try #require(challenge.headers[name])
        func param(_ key: String) -> String {
            let pattern = "\(key)=\""
            guard let start = value.range(of: pattern)?.upperBound, let end = value[start...].firstIndex(of: "\"") else { return "" }
            return String(value[start..<end])
        }
        let uri = "sip:1002@127.0.0.1"
        let ha1 = DigestComputation.ha1(algorithm: .md5, username: user, realm: param("realm"), secret: .password(password))!
        let response = DigestComputation.response(
            algorithm: .md5, ha1: ha1, method: method, uri: uri, nonce: param("nonce"), qop: "auth", nc: "00000001", cnonce: "abc")
        return "Digest username=\"\(user)\", realm=\"\(param("realm"))\", nonce=\"\(param("nonce"))\", uri=\"\(uri)\", "
            + "response=\"\(response)\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"abc\", opaque=\"\(param("opaque"))\""
    }

    func challenge(_ method: String, user: String) throws -> SIPResponse {
        let purpose: CallAuthenticator.Purpose = method == "REGISTER" ? .register : .invite
        guard case .challenge(let response) = authenticator.authenticate(try request(method, user: user), from: phone, purpose: purpose) else {
            Issue.record("expected a challenge")
            throw ConfigError("no challenge", at: nil)
        }
        return response
    }

    @Test func inviteWithoutCredentialsIsChallengedWith407() throws {
        let response = try challenge("INVITE", user: "1001")
        #expect(response.statusCode == 407)
        #expect(response.headers["Proxy-Authenticate"]?.hasPrefix("Digest ") == true)
    }

    @Test func registerWithRightPasswordIsAccepted() throws {
        let challenge = try challenge("REGISTER", user: "1001")
        #expect(challenge.statusCode == 401)
        let credentials = try answer(challenge, method: "REGISTER", user: "1001", password: "right1001")
        let outcome = authenticator.authenticate(try request("REGISTER", user: "1001", authorization: credentials), from: phone, purpose: .register)
        guard case .accepted(let peer) = outcome else {
            Issue.record("expected acceptance, got \(outcome)")
            return
        }
        #expect(peer.name == "1001")
    }

    @Test func wrongUserAndWrongPasswordGetTheSameAnswer() throws {
        let wrongPassword = try answer(try challenge("REGISTER", user: "1001"), method: "REGISTER", user: "1001", password: "nope")
        let unknownUser = try answer(try challenge("REGISTER", user: "9999"), method: "REGISTER", user: "9999", password: "nope")
        let a = authenticator.authenticate(try request("REGISTER", user: "1001", authorization: wrongPassword), from: phone, purpose: .register)
        let b = authenticator.authenticate(try request("REGISTER", user: "9999", authorization: unknownUser), from: phone, purpose: .register)
        guard case .reject(let first) = a, case .reject(let second) = b else {
            Issue.record("both must be rejected: \(a) / \(b)")
            return
        }
        #expect(first.statusCode == 403)
        #expect(second.statusCode == first.statusCode)
        #expect(second.reasonPhrase == first.reasonPhrase)
        #expect(second.headers.other.map(\.name) == first.headers.other.map(\.name))
    }

    @Test func aclOutsidePermittedNetworkLooksLikeAWrongPassword() throws {
        let credentials = try answer(try challenge("REGISTER", user: "1002"), method: "REGISTER", user: "1002", password: "right1002")
        let outcome = authenticator.authenticate(try request("REGISTER", user: "1002", authorization: credentials), from: phone, purpose: .register)
        guard case .reject(let response) = outcome else {
            Issue.record("a peer outside its permit list must be refused, got \(outcome)")
            return
        }
        #expect(response.statusCode == 403)
    }

    @Test func trunkIsMatchedBySourceAddressWithoutCredentials() throws {
        let trunk = SIPTransportAddress(transport: .udp, address: try SocketAddress(ipAddress: "192.0.2.7", port: 5099))
        let outcome = authenticator.authenticate(try request("INVITE", user: "anyone"), from: trunk, purpose: .invite)
        guard case .accepted(let peer) = outcome else {
            Issue.record("expected the trunk, got \(outcome)")
            return
        }
        #expect(peer.name == "trunk")
        #expect(peer.context == "from-trunk")
    }

    @Test func oneAccountCannotRegisterAnother() throws {
        // Credentials of 1001 on a REGISTER for 1002's address-of-record.
        let credentials = try answer(try challenge("REGISTER", user: "1001"), method: "REGISTER", user: "1001", password: "right1001")
        var forged = try request("REGISTER", user: "1001", authorization: credentials)
        forged.headers.to = NameAddress(uri: SIPURI(user: "1002", host: "127.0.0.1"))
        guard case .reject = authenticator.authenticate(forged, from: phone, purpose: .register) else {
            Issue.record("1001's secret must not register 1002")
            return
        }
    }
}

/// The two `[general]` switches that trade safety for convenience, as chan_sip has them.
@Suite struct GuestAndAuthRejectTests {
    static func authenticator(_ general: String) throws -> CallAuthenticator {
        let text = "[general]\nrealm=test\ncontext=public\n\(general)\n[1001]\ntype=friend\nhost=dynamic\nsecret=s\n"
        return CallAuthenticator(config: try SIPConfig(ConfigFile.parse(text, fileName: "sip.conf")))
    }

    static func request(_ method: String, user: String) throws -> SIPRequest {
        let text = "\(method) sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKg1\r\n"
            + "From: <sip:\(user)@127.0.0.1>;tag=a\r\nTo: <sip:\(method == "REGISTER" ? user : "100")@127.0.0.1>\r\n"
            + "Call-ID: g@1\r\nCSeq: 1 \(method)\r\nContent-Length: 0\r\n\r\n"
        guard case .request(let request) = try SIPParser.parse(bytes: Array(text.utf8)) else { throw ConfigError("x", at: nil) }
        return request
    }

    static let source = SIPTransportAddress(transport: .udp, address: try! SocketAddress(ipAddress: "127.0.0.1", port: 5070))

    @Test func guestsAreChallengedUnlessAllowed() throws {
        let closed = try Self.authenticator("allowguest=no")
        guard case .challenge = closed.authenticate(try Self.request("INVITE", user: "stranger"), from: Self.source, purpose: .invite) else {
            Issue.record("allowguest=no must challenge an unknown caller")
            return
        }
        let open = try Self.authenticator("allowguest=yes")
        guard case .accepted(let guest) = open.authenticate(try Self.request("INVITE", user: "stranger"), from: Self.source, purpose: .invite) else {
            Issue.record("allowguest=yes must let an unknown caller in")
            return
        }
        #expect(guest.context == "public")
        guard case .challenge = open.authenticate(try Self.request("INVITE", user: "1001"), from: Self.source, purpose: .invite) else {
            Issue.record("a known peer is still challenged with allowguest=yes")
            return
        }
    }

    @Test func alwaysAuthRejectOffTellsUnknownAccounts() throws {
        for (setting, expected) in [("alwaysauthreject=yes", 403), ("alwaysauthreject=no", 404)] {
            let authenticator = try Self.authenticator(setting)
            var request = try Self.request("REGISTER", user: "ghost")
            request.headers.add("Authorization", "Digest username=\"ghost\", realm=\"test\", nonce=\"00\", uri=\"sip:100@127.0.0.1\", response=\"00000000000000000000000000000000\"")
            guard case .reject(let response) = authenticator.authenticate(request, from: Self.source, purpose: .register) else {
                Issue.record("\(setting): expected a rejection")
                continue
            }
            #expect(response.statusCode == expected, "\(setting)")
        }
    }
}
