import NIOConcurrencyHelpers
import PBXCore

/// Every session renders every bus event it is sent; with 50 sessions that is 50 renderings of
/// the same text. Sessions ask here instead: the last events rendered are kept in a few slots
/// (by name and timestamp) and reused when the event is the same — fields compared, so a
/// coincidence of name and timestamp can never hand out another event's text.
final class EventTextCache: Sendable {
    private struct Entry {
        var event: ManagerEvent
        var timestamped: Bool
        var text: String
    }

    private static let slotCount = 64
    private let slots = NIOLockedValueBox([Entry?](repeating: nil, count: EventTextCache.slotCount))

    func text(for event: ManagerEvent, timestamp: Bool) -> String {
        var hasher = Hasher()
        hasher.combine(event.name)
        hasher.combine(event.timestamp)
        hasher.combine(timestamp)
        let slot = Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.slotCount))
        let cached = slots.withLockedValue { slots -> String? in
            guard let entry = slots[slot], entry.timestamped == timestamp, entry.event.timestamp == event.timestamp,
                  entry.event.name == event.name, entry.event.eventClass == event.eventClass, entry.event.fields == event.fields
            else { return nil }
            return entry.text
        }
        if let cached { return cached }
        let text = AMIMessage.event(event, timestamp: timestamp).text
        slots.withLockedValue { $0[slot] = Entry(event: event, timestamped: timestamp, text: text) }
        return text
    }
}
