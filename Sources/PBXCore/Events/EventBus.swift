import Logging
import NIOConcurrencyHelpers

/// The switch's event bus (DESIGN.md §2.6): producers publish `ManagerEvent`s, subscribers
/// (AMI sessions, CDR, queue_log, webhooks) read them from their own bounded stream. Publishing
/// never waits: a subscriber that falls `capacity` events behind is cut off (its stream ends)
/// with a log line, so a stalled reader can't slow calls or other readers.
///
/// All subscribers see events in one order: delivery happens under the bus's lock.
public final class EventBus: Sendable {
    private struct Subscriber {
        var label: String
        var continuation: AsyncStream<ManagerEvent>.Continuation
    }

    private struct State {
        var nextID: UInt64 = 0
        var subscribers: [UInt64: Subscriber] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let logger: Logger

    public init(logger: Logger = Logger(label: "pbxd.events")) {
        self.logger = logger
    }

    /// A stream of every event published from now on, until `cancel` or until the reader falls
    /// `capacity` events behind (then the stream finishes early).
    public func subscribe(label: String, capacity: Int = 10_000) -> EventSubscription {
        let (stream, continuation) = AsyncStream<ManagerEvent>.makeStream(bufferingPolicy: .bufferingOldest(capacity))
        let id = state.withLockedValue { state -> UInt64 in
            state.nextID += 1
            state.subscribers[state.nextID] = Subscriber(label: label, continuation: continuation)
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        return EventSubscription(events: stream, cancel: { [weak self] in self?.finish(id) })
    }

    public func publish(_ event: ManagerEvent) {
        // Finishing a stream runs its onTermination, which takes the lock: do it after unlocking.
        let cutOff = state.withLockedValue { state -> [Subscriber] in
            var dropped: [Subscriber] = []
            for (id, subscriber) in state.subscribers {
                if case .dropped = subscriber.continuation.yield(event) {
                    state.subscribers[id] = nil
                    dropped.append(subscriber)
                }
            }
            return dropped
        }
        for subscriber in cutOff {
            subscriber.continuation.finish()
            logger.warning("event subscriber cut off: it stopped reading", metadata: ["subscriber": "\(subscriber.label)"])
        }
    }

    /// How many subscribers are attached (metrics, tests).
    public var subscriberCount: Int { state.withLockedValue { $0.subscribers.count } }

    private func finish(_ id: UInt64) {
        let subscriber = state.withLockedValue { $0.subscribers.removeValue(forKey: id) }
        subscriber?.continuation.finish()
    }

    private func remove(_ id: UInt64) {
        _ = state.withLockedValue { $0.subscribers.removeValue(forKey: id) }
    }
}

/// One subscriber's view of the bus.
public struct EventSubscription: Sendable {
    public let events: AsyncStream<ManagerEvent>
    /// Detaches from the bus and ends `events`.
    public let cancel: @Sendable () -> Void
}
