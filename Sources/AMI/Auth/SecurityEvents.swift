import Foundation
import PBXCore

/// Where a manager session is, as security events print it: `IPV4/TCP/127.0.0.1/5038`.
public struct SessionEndpoints: Sendable, Equatable {
    public var local: String
    public var remote: String
    /// The client's address alone (ACLs, throttling, log lines).
    public var remoteHost: String

    public init(localHost: String, localPort: Int, remoteHost: String, remotePort: Int) {
        local = Self.format(localHost, localPort)
        remote = Self.format(remoteHost, remotePort)
        self.remoteHost = remoteHost
    }

    static func format(_ host: String, _ port: Int) -> String {
        "\(host.contains(":") ? "IPV6" : "IPV4")/TCP/\(host)/\(port)"
    }
}

/// Asterisk's security events for the manager (ami.md §5.4, §10.14; transcript ami-01), class
/// `security`. Field order follows the capture. ChallengeResponseFailed leaves out Asterisk's
/// `ExpectedResponse`: that is MD5(challenge + secret), enough to guess the secret offline.
enum SecurityEvent {
    struct Session {
        var id: String
        var endpoints: SessionEndpoints
        /// When the session authenticated; nil before (printed as the epoch, as Asterisk does).
        var authenticatedAt: Date?
    }

    static func successfulAuth(account: String, session: Session, now: Date) -> ManagerEvent {
        event("SuccessfulAuth", severity: "Informational", version: 1, now: now,
              [.init("AccountID", account)] + common(session) + [.init("UsingPassword", "0"), sessionTV(session)])
    }

    static func invalidPassword(account: String, session: Session, now: Date) -> ManagerEvent {
        event("InvalidPassword", severity: "Error", version: 2, now: now,
              [.init("AccountID", account)] + common(session) + [sessionTV(session)])
    }

    static func invalidAccountID(account: String, session: Session, now: Date) -> ManagerEvent {
        event("InvalidAccountID", severity: "Error", version: 1, now: now,
              [.init("AccountID", account)] + common(session) + [sessionTV(session)])
    }

    static func failedACL(account: String, session: Session, now: Date) -> ManagerEvent {
        event("FailedACL", severity: "Error", version: 1, now: now,
              [.init("AccountID", account)] + common(session) + [sessionTV(session)])
    }

    static func challengeResponseFailed(account: String, challenge: String, response: String, session: Session, now: Date) -> ManagerEvent {
        event("ChallengeResponseFailed", severity: "Error", version: 1, now: now,
              [.init("AccountID", account)] + common(session)
                + [.init("Challenge", challenge), .init("Response", response), sessionTV(session)])
    }

    /// An unknown or malformed action (`RequestType: Action: FooBarBaz`, or `Action: NONE`).
    static func requestBadFormat(requestType: String, account: String?, session: Session, now: Date) -> ManagerEvent {
        var fields = common(session) + [.init("RequestType", requestType), sessionTV(session)]
        if let account { fields.append(.init("AccountID", account)) }
        return event("RequestBadFormat", severity: "Error", version: 1, now: now, fields)
    }

    private static func common(_ session: Session) -> [ManagerEvent.Field] {
        [.init("SessionID", session.id), .init("LocalAddress", session.endpoints.local), .init("RemoteAddress", session.endpoints.remote)]
    }

    private static func sessionTV(_ session: Session) -> ManagerEvent.Field {
        .init("SessionTV", eventTV(session.authenticatedAt ?? Date(timeIntervalSince1970: 0)))
    }

    private static func event(_ name: String, severity: String, version: Int, now: Date, _ fields: [ManagerEvent.Field]) -> ManagerEvent {
        ManagerEvent(
            name: name, class: .security,
            fields: [.init("EventTV", eventTV(now)), .init("Severity", severity), .init("Service", "AMI"), .init("EventVersion", String(version))]
                + fields,
            timestamp: now.timeIntervalSince1970)
    }

    /// `2026-11-22T00:20:05.722+0000` (UTC, milliseconds), as captured.
    static func eventTV(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        return formatter.string(from: date)
    }
}
