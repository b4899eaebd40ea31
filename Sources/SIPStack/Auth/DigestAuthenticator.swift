import Crypto

/// Which challenge a request gets: a registrar/UAS sends 401 + `WWW-Authenticate`, a proxy 407 +
/// `Proxy-Authenticate` (RFC 3261 §22.2, §22.3). chan_sip challenges REGISTER with 401 and
/// INVITE with 407; the driver picks.
public enum DigestChallengeKind: Sendable, Hashable {
    case www
    case proxy

    public var statusCode: Int { self == .www ? 401 : 407 }
    public var challengeHeaderName: String { self == .www ? "WWW-Authenticate" : "Proxy-Authenticate" }
    public var credentialsHeaderName: String { self == .www ? "Authorization" : "Proxy-Authorization" }
}

/// The outcome of checking one set of credentials.
public enum DigestVerdict: Sendable, Hashable {
    /// The response is right and fresh: the request is authenticated.
    case ok
    /// The response is right but the nonce expired (or was already used): challenge again with
    /// `stale=true` so the client retries with the same password without asking the user
    /// (RFC 7616 §3.3). Never returned for a wrong password or an unknown user.
    case stale
    /// Anything else: wrong password, unknown user, forged nonce, wrong realm, unsupported
    /// algorithm. Deliberately one case so that a wrong user and a wrong password look the same.
    case failed
}

/// Settings for `DigestAuthenticator`.
public struct DigestSettings: Sendable {
    /// sip.conf `realm` (Asterisk's default is `asterisk`; pbxd's sample uses `pbxd`).
    public var realm: String
    /// Offered in this order (RFC 8760 §2.4: the preferred algorithm first, so SHA-256 then MD5).
    public var algorithms: [DigestAlgorithm]
    /// How long a nonce is accepted after it was issued. 60 s: long enough that a user agent on
    /// a slow link (or a human typing a password) does not loop through stale challenges, short
    /// enough that a captured nonce is soon useless.
    public var nonceLifetime: Duration
    /// Accept responses without `qop` (RFC 2069 style) as Asterisk does. Safe here because such
    /// a nonce is accepted only once: without `nc` there is nothing else that stops a replay.
    public var acceptRFC2069: Bool
    /// Nonces whose use is remembered (for the nc/replay check); the oldest is forgotten first,
    /// and a forgotten nonce is then answered `stale` rather than trusted again.
    public var nonceTableCapacity: Int

    public init(
        realm: String = "pbxd", algorithms: [DigestAlgorithm] = [.sha256, .md5],
        nonceLifetime: Duration = .seconds(60), acceptRFC2069: Bool = true, nonceTableCapacity: Int = 8192
    ) {
        precondition(!algorithms.isEmpty, "at least one digest algorithm")
        self.realm = realm
        self.algorithms = algorithms
        self.nonceLifetime = nonceLifetime
        self.acceptRFC2069 = acceptRFC2069
        self.nonceTableCapacity = nonceTableCapacity
    }
}

/// Digest authentication for a SIP server (RFC 3261 §22, RFC 7616, RFC 8760): makes challenges,
/// verifies credentials. Pure logic: the caller passes the time and sends the responses.
///
/// Nonces are stateless-verifiable: `hex(issued-ms[8] ‖ random[8] ‖ HMAC-SHA256(key, issued ‖
/// random ‖ realm)[0..<16])`, with `issued` measured from `epoch` and `key` random per process,
/// so no table entry is created for a challenge (an unauthenticated flood costs no memory) and a
/// restart invalidates all nonces (clients simply get challenged again).
///
/// State kept is only the highest `nc` seen per successfully used nonce, in a bounded table.
/// A value type with one owner (DESIGN.md §3): put it in the actor or event loop that handles
/// authentication.
public struct DigestAuthenticator: Sendable {
    public let settings: DigestSettings
    /// The HMAC key bytes (kept as bytes: `SymmetricKey` is not `Sendable`).
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    private let epoch: ContinuousClock.Instant
    /// `opaque`, fixed per process; clients must echo it (RFC 7616 §3.3), some omit it.
    public let opaque: String
    /// Stands in for the secret of an unknown user so that the same hashing happens.
    private let decoySecret: DigestSecret
    private var usedNonces: BoundedTable<String, UInt32>
    /// Highest issue time (ms) among nonces evicted from `usedNonces`; an unknown nonce issued at
    /// or before it might have been used already.
    private var evictedWatermark: UInt64 = 0
    private var anyEvicted = false

    /// - Parameters:
    ///   - epoch: the reference instant for nonce timestamps (normally `.now` at start-up).
    ///   - key: the HMAC key (32 bytes); random per process unless a test fixes it.
    public init(settings: DigestSettings, epoch: ContinuousClock.Instant, key: [UInt8]? = nil) {
        self.settings = settings
        self.epoch = epoch
        var generator = SystemRandomNumberGenerator()
        self.keyBytes = key ?? (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        self.opaque = DigestAlgorithm.hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        self.decoySecret = .password(DigestAlgorithm.hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        self.usedNonces = BoundedTable(capacity: settings.nonceTableCapacity)
    }

    // MARK: Challenges

    /// The challenge header values, one per offered algorithm, preferred first (RFC 8760 §2.4).
    /// Put each in its own `WWW-Authenticate` / `Proxy-Authenticate` header (see `DigestChallengeKind`).
    public func challenges(now: ContinuousClock.Instant, stale: Bool = false) -> [String] {
        let nonce = makeNonce(now: now)
        return settings.algorithms.map { algorithm in
            var value = "Digest realm=\(digestQuoted(settings.realm)), nonce=\"\(nonce)\", opaque=\"\(opaque)\", algorithm=\(algorithm.rawValue), qop=\"auth\""
            if stale { value += ", stale=true" }
            return value
        }
    }

    func makeNonce(now: ContinuousClock.Instant) -> String {
        var generator = SystemRandomNumberGenerator()
        var body = Self.bigEndianBytes(milliseconds(since: epoch, to: now))
        body += (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let mac = HMAC<SHA256>.authenticationCode(for: body + Array(settings.realm.utf8), using: key)
        return DigestAlgorithm.hex(body + Array(mac).prefix(16))
    }

    /// The issue time (ms since `epoch`) of a nonce we made, or `nil` for anything forged/garbled.
    func nonceIssueTime(_ nonce: String) -> UInt64? {
        guard nonce.utf8.count == 64, let bytes = Self.hexBytes(nonce) else { return nil }
        let body = Array(bytes[0..<16])
        let expected = Array(HMAC<SHA256>.authenticationCode(for: body + Array(settings.realm.utf8), using: key)).prefix(16)
        guard DigestComputation.constantTimeEquals(bytes[16..<32], expected) else { return nil }
        return body[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    // MARK: Verification

    /// Finds our credentials in a request: the first `Authorization` (or `Proxy-Authorization`)
    /// value that parses as Digest for our realm. `nil` means "challenge it".
    public func credentials(in headers: SIPHeaders, kind: DigestChallengeKind) -> DigestCredentials? {
        for value in headers.other where value.name.caseInsensitiveEquals(kind.credentialsHeaderName) {
            if let credentials = try? DigestCredentials.parse(value.value), credentials.realm == settings.realm {
                return credentials
            }
        }
        return nil
    }

    /// Checks a response (RFC 7616 §3.4.1). Pass `secret: nil` when `credentials.username` is
    /// not a known peer: the same hashes are computed against a decoy and the verdict is
    /// `.failed`, exactly as for a wrong password, so peers cannot be enumerated
    /// (Asterisk's `alwaysauthreject=yes`).
    ///
    /// The `uri` parameter is covered by the digest but not compared with the Request-URI:
    /// like chan_sip, pbxd tolerates user agents that write it in another form; the method is
    /// always bound. The caller decides whether `username` may act as the From/To identity.
    public mutating func verify(
        method: SIPMethod, credentials: DigestCredentials, secret: DigestSecret?, now: ContinuousClock.Instant
    ) -> DigestVerdict {
        // Checks on client-supplied, non-secret fields: failing early here reveals nothing about users.
        guard credentials.realm == settings.realm, !credentials.userhash,
            let algorithm = credentials.algorithm, settings.algorithms.contains(algorithm),
            let issued = nonceIssueTime(credentials.nonce)
        else { return .failed }
        if let opaque = credentials.opaque, opaque != self.opaque { return .failed }
        if let qop = credentials.qop {
            guard qop.caseInsensitiveEquals("auth"), credentials.nonceCount != nil else { return .failed }
        } else if !settings.acceptRFC2069 {
            return .failed
        }

        // The secret-dependent part: identical work whether or not the user exists.
        let knownSecret = secret.flatMap {
            DigestComputation.ha1(algorithm: algorithm, username: credentials.username, realm: settings.realm, secret: $0)
        }
        let ha1 = knownSecret
            ?? DigestComputation.ha1(algorithm: algorithm, username: credentials.username, realm: settings.realm, secret: decoySecret)!
        let expected = DigestComputation.response(
            algorithm: algorithm, ha1: ha1, method: method.description, uri: credentials.uri,
            nonce: credentials.nonce, qop: credentials.qop, nc: credentials.nc, cnonce: credentials.cnonce)
        let matches = DigestComputation.constantTimeEquals(Array(credentials.response.lowercased().utf8), Array(expected.utf8))
        guard matches, knownSecret != nil else { return .failed }

        // Right answer: now freshness and replay.
        let nowMs = milliseconds(since: epoch, to: now)
        guard issued <= nowMs else { return .failed }
        if nowMs - issued > UInt64(settings.nonceLifetime.milliseconds) { return .stale }
        let count = credentials.nonceCount ?? 0
        if let last = usedNonces[credentials.nonce] {
            // RFC 2069 style (count 0) may use a nonce once; with qop, nc must grow.
            guard credentials.qop != nil, count > last else { return .stale }
        } else if anyEvicted && issued <= evictedWatermark {
            return .stale
        }
        if let evicted = usedNonces.set(credentials.nonce, count), let evictedIssued = nonceIssueTime(evicted.key) {
            anyEvicted = true
            evictedWatermark = max(evictedWatermark, evictedIssued)
        }
        return .ok
    }

    // MARK: Helpers

    private func milliseconds(since start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> UInt64 {
        UInt64(max(0, (end - start).milliseconds))
    }

    static func bigEndianBytes(_ value: UInt64) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) }
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for byte in text.utf8 {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? out : nil
    }
}

extension Duration {
    /// Whole milliseconds (truncated), for nonce timestamps.
    fileprivate var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
