import Crypto
import Foundation
import PBXCore

/// Login and Challenge (ami.md §5; transcript ami-01).
extension AMISession {
    /// Why a login was refused; each maps to the security event Asterisk publishes.
    enum LoginFailure: Error {
        case missingUsername
        case unknownUser
        case refusedByACL
        case throttled
        case wrongSecret
        case wrongKey(challenge: String, key: String)
    }

    func login(_ request: ManagerRequest) async -> Disposition {
        let actionID = request["ActionID"]
        if isAuthenticated {
            output.send(.success(actionID: actionID, message: "Already authenticated"))
            return .keepOpen
        }
        let username = request["Username"] ?? ""
        switch authenticate(request, username: username) {
        case .success(let user):
            accept(user, request: request)
            return .keepOpen
        case .failure(let failure):
            await refuse(username: username, failure, actionID: actionID)
            return .close
        }
    }

    private func authenticate(_ request: ManagerRequest, username: String) -> Result<ManagerUser, LoginFailure> {
        guard !context.throttle.isBlocked(endpoints.remoteHost) else { return .failure(.throttled) }
        guard !username.isEmpty else { return .failure(.missingUsername) }
        guard let user = context.config.user(named: username) else { return .failure(.unknownUser) }
        guard user.acl.allows(endpoints.remoteHost) else { return .failure(.refusedByACL) }
        if request["AuthType"]?.lowercased() == "md5" {
            let challenge = state.withLockedValue { $0.challenge } ?? ""
            let key = request["Key"] ?? ""
            guard !challenge.isEmpty, constantTimeEqual(key, Self.md5Key(challenge: challenge, secret: user.secret)) else {
                return .failure(.wrongKey(challenge: challenge, key: key))
            }
        } else {
            guard constantTimeEqual(request["Secret"] ?? "", user.secret) else { return .failure(.wrongSecret) }
        }
        return .success(user)
    }

    /// `Key = hex(MD5(challenge + secret))`, lower-case (ami.md §5.2).
    static func md5Key(challenge: String, secret: String) -> String {
        Insecure.MD5.hash(data: Array((challenge + secret).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private func accept(_ user: ManagerUser, request: ManagerRequest) {
        let now = Date()
        let session = state.withLockedValue { state -> SecurityEvent.Session in
            state.user = user
            state.authenticatedAt = now
            state.filters = user.eventFilters
            state.timestampEvents = context.config.timestampEvents
            // An invalid mask on Login is ignored (the login itself succeeds), as in Asterisk.
            if let text = request["Events"], let mask = parseEventMask(text) { state.eventMask = mask }
            return securitySession(state)
        }
        output.send(.success(actionID: request["ActionID"], message: "Authentication accepted"))
        // FullyBooted right after the reply, to sessions that may and want to see `system`.
        deliver(context.system.fullyBootedEvent)
        if context.config.displayConnects {
            logger.info("manager user logged on", metadata: ["user": "\(user.name)"])
        }
        context.bus.publish(SecurityEvent.successfulAuth(account: user.name, session: session, now: now))
    }

    /// Publishes the security event, waits (Asterisk sleeps 1 s before answering a failed
    /// login), replies `Authentication failed`; the caller then closes the connection.
    private func refuse(username: String, _ failure: LoginFailure, actionID: String?) async {
        let session = state.withLockedValue { securitySession($0) }
        let now = Date()
        let host = endpoints.remoteHost
        let reason: String
        switch failure {
        case .missingUsername:
            reason = "no username"
        case .unknownUser:
            reason = "unknown user"
            context.bus.publish(SecurityEvent.invalidAccountID(account: username, session: session, now: now))
        case .refusedByACL:
            reason = "address not permitted"
            context.bus.publish(SecurityEvent.failedACL(account: username, session: session, now: now))
        case .throttled:
            reason = "too many failed logins from this address"
        case .wrongSecret:
            reason = "wrong secret"
            context.bus.publish(SecurityEvent.invalidPassword(account: username, session: session, now: now))
        case .wrongKey(let challenge, let key):
            reason = "wrong MD5 key"
            context.bus.publish(SecurityEvent.challengeResponseFailed(account: username, challenge: challenge, response: key,
                                                                      session: session, now: now))
        }
        logger.notice("manager login failed", metadata: ["user": "\(username)", "reason": "\(reason)"])
        if context.throttle.recordFailure(host) {
            logger.warning("too many failed manager logins; refusing this address for a while",
                           metadata: ["window_s": "\(Int(context.throttle.window))"])
        }
        try? await Task.sleep(for: context.failedLoginDelay)
        output.send(.error(actionID: actionID, message: "Authentication failed"))
    }

    func challenge(_ request: ManagerRequest) {
        let actionID = request["ActionID"]
        guard request["AuthType"]?.lowercased() == "md5" else {
            output.send(.error(actionID: actionID, message: "Must specify AuthType"))
            return
        }
        let challenge = state.withLockedValue { state -> String in
            if let existing = state.challenge { return existing }
            let fresh = String(UInt32.random(in: 1...UInt32(Int32.max)))
            state.challenge = fresh
            return fresh
        }
        output.send(.success(actionID: actionID, message: nil, [.init("Challenge", challenge)]))
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
