/// What the SIP driver does with a request that needs authentication.
public enum AuthDecision: Sendable, Hashable {
    /// Authenticated as `username` (a peer name): go on.
    case authenticated(username: String)
    /// Answer 401/407 with these challenge values (one header per value). `stale` tells the
    /// client its password was right but the nonce is no longer valid.
    case challenge(kind: DigestChallengeKind, values: [String], stale: Bool)
    /// Answer 403 Forbidden: wrong credentials (wrong password and unknown user alike, as
    /// chan_sip with `alwaysauthreject=yes`), or a source blocked by the throttle.
    case forbidden

    public var statusCode: Int {
        switch self {
        case .authenticated: 200
        case .challenge(let kind, _, _): kind.statusCode
        case .forbidden: 403
        }
    }

    /// The 401/407/403 response to `request`; `nil` for `.authenticated`.
    public func response(to request: SIPRequest, toTag: String) -> SIPResponse? {
        switch self {
        case .authenticated:
            return nil
        case .challenge(let kind, let values, _):
            var response = SIPResponse(replyingTo: request, statusCode: kind.statusCode, toTag: toTag)
            for value in values { response.headers.add(kind.challengeHeaderName, value) }
            return response
        case .forbidden:
            return SIPResponse(replyingTo: request, statusCode: 403, toTag: toTag)
        }
    }
}

/// Digest authentication plus the per-IP throttle, in the order the driver needs them
/// (RFC 3261 §22.1–22.3): blocked source → 403 without looking at anything; no credentials →
/// challenge; credentials → verify against the peer's secret (looked up by the user name the
/// client gave, `nil` if there is no such peer) → authenticated / stale challenge / 403.
///
/// A request without credentials is not a failure (every phone's first REGISTER has none);
/// only a `.failed` verification counts towards the throttle, and a success clears it.
public struct AuthGate: Sendable {
    public var authenticator: DigestAuthenticator
    public var throttle: AuthThrottle

    public init(authenticator: DigestAuthenticator, throttle: AuthThrottle = AuthThrottle()) {
        self.authenticator = authenticator
        self.throttle = throttle
    }

    /// - Parameters:
    ///   - source: the request's source IP (no port), for the throttle.
    ///   - expectedUsername: when the identity is already fixed (the To user of a REGISTER is
    ///     the peer being registered), credentials for another user are refused like a wrong
    ///     password — one peer's secret must not register another.
    ///   - secret: the peer's secret for a user name, `nil` when there is no such peer.
    public mutating func authenticate(
        _ request: SIPRequest, kind: DigestChallengeKind, source: String, expectedUsername: String? = nil,
        now: ContinuousClock.Instant, secret: (String) -> DigestSecret?
    ) -> AuthDecision {
        if case .blocked = throttle.check(source: source, now: now) { return .forbidden }
        guard let credentials = authenticator.credentials(in: request.headers, kind: kind) else {
            return .challenge(kind: kind, values: authenticator.challenges(now: now), stale: false)
        }
        let peerSecret = secret(credentials.username)
        let usable = expectedUsername.map { $0 == credentials.username } ?? true
        let verdict = authenticator.verify(
            method: request.method, credentials: credentials, secret: usable ? peerSecret : nil, now: now)
        switch verdict {
        case .ok:
            throttle.recordSuccess(source: source)
            return .authenticated(username: credentials.username)
        case .stale:
            return .challenge(kind: kind, values: authenticator.challenges(now: now, stale: true), stale: true)
        case .failed:
            throttle.recordFailure(source: source, now: now)
            return .forbidden
        }
    }
}
