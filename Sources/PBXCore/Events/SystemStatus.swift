import Foundation
import NIOConcurrencyHelpers

/// The switch's start and last-reload times, and the system events about them: FullyBooted at
/// start-up (and for AMI to send after each login), Shutdown before the sockets close, Reload
/// whenever a configuration reload finishes (whoever performs it calls `reloaded`).
public final class SystemStatus: Sendable {
    private let events: EventBus
    private let clock: @Sendable () -> Date
    public let startedAt: Date
    private let lastReloadAt: NIOLockedValueBox<Date>

    public init(events: EventBus, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.events = events
        self.clock = clock
        let now = clock()
        startedAt = now
        lastReloadAt = NIOLockedValueBox(now)
    }

    /// Whole seconds since start-up.
    public var uptime: Int { Self.seconds(since: startedAt, now: clock()) }
    /// Whole seconds since the last successful reload (since start-up before any).
    public var secondsSinceReload: Int { Self.seconds(since: lastReloadAt.withLockedValue { $0 }, now: clock()) }

    /// FullyBooted as of now.
    public var fullyBootedEvent: ManagerEvent { .fullyBooted(uptime: uptime, lastReload: secondsSinceReload) }

    public func announceBooted() {
        events.publish(fullyBootedEvent)
    }

    public func announceShutdown(restart: Bool = false) {
        events.publish(.shutdown(cleanly: true, restart: restart))
    }

    /// Records a reload of `module` (`All` for everything) and publishes the Reload event; a
    /// successful one restarts the LastReload clock.
    public func reloaded(module: String = "All", status: ReloadStatus = .success) {
        if status == .success { lastReloadAt.withLockedValue { $0 = clock() } }
        events.publish(.reload(module: module, status: status))
    }

    private static func seconds(since start: Date, now: Date) -> Int {
        max(0, Int(now.timeIntervalSince(start).rounded(.down)))
    }
}
