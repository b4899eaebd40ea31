import Foundation
import NIOConcurrencyHelpers

/// Failed-login throttling per source address. Asterisk only delays each failed reply by a
/// second, which still lets a botnet guess secrets in parallel; pbxd also refuses every login
/// from an address that failed `maxFailures` times within `window`, until the window has
/// passed since the last failure — even with the right secret, so guessing can't confirm a hit.
public final class LoginThrottle: Sendable {
    public let maxFailures: Int
    public let window: TimeInterval
    private let clock: @Sendable () -> Date
    private let failures = NIOLockedValueBox<[String: [Date]]>([:])

    public init(maxFailures: Int = 5, window: TimeInterval = 60, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.maxFailures = maxFailures
        self.window = window
        self.clock = clock
    }

    /// Whether logins from `address` are refused right now.
    public func isBlocked(_ address: String) -> Bool {
        let now = clock()
        return failures.withLockedValue { table in
            let recent = (table[address] ?? []).filter { now.timeIntervalSince($0) < window }
            table[address] = recent.isEmpty ? nil : recent
            return recent.count >= maxFailures
        }
    }

    /// Counts a failed login; returns true when this failure starts the block (log it once).
    @discardableResult
    public func recordFailure(_ address: String) -> Bool {
        let now = clock()
        return failures.withLockedValue { table in
            var recent = (table[address] ?? []).filter { now.timeIntervalSince($0) < window }
            let wasBlocked = recent.count >= maxFailures
            recent.append(now)
            // Keep the list short: only the newest `maxFailures` matter.
            if recent.count > maxFailures { recent.removeFirst(recent.count - maxFailures) }
            table[address] = recent
            return !wasBlocked && recent.count >= maxFailures
        }
    }
}
