/// A dictionary with a fixed capacity that evicts the oldest-inserted key when full, in O(1).
///
/// Every insertion of a new key takes the next slot of a ring of `capacity` slots and evicts the
/// key that held it (if that key is still present and was not re-inserted since), so the table
/// never holds more than `capacity` keys whatever the input. Removal leaves its slot stale.
/// Used for per-nonce counters and per-IP throttle state, where an attacker controls the keys.
struct BoundedTable<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry: Sendable {
        var value: Value
        var slot: Int
    }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var ring: [Key?]
    private var nextSlot = 0

    init(capacity: Int) {
        precondition(capacity > 0, "BoundedTable needs a positive capacity")
        self.capacity = capacity
        self.ring = Array(repeating: nil, count: capacity)
    }

    var count: Int { entries.count }

    subscript(key: Key) -> Value? { entries[key]?.value }

    /// Inserts or updates `key`. Returns the evicted key/value when a new key pushed one out.
    @discardableResult
    mutating func set(_ key: Key, _ value: Value) -> (key: Key, value: Value)? {
        if entries[key] != nil {
            entries[key]!.value = value
            return nil
        }
        var evicted: (key: Key, value: Value)?
        let slot = nextSlot
        nextSlot = (nextSlot + 1) % capacity
        if let old = ring[slot], let oldEntry = entries[old], oldEntry.slot == slot {
            entries[old] = nil
            evicted = (old, oldEntry.value)
        }
        ring[slot] = key
        entries[key] = Entry(value: value, slot: slot)
        return evicted
    }

    mutating func remove(_ key: Key) {
        entries[key] = nil
    }
}
