import NIOCore

/// A hashed timer wheel on one event loop: O(1) to schedule and to cancel, driven by a single
/// repeating tick. SIP keeps thousands of timers alive at once (Timers A–K, 2xx retransmission,
/// dial timeouts) and cancels most of them; NIO's own scheduled tasks cost a linear search of
/// the loop's queue per cancel, which became the top item in a calls-per-second profile.
/// DESIGN.md §3: one shared clock per loop, not a timer per call.
///
/// Precision is one tick (10 ms by default): far below what SIP timers need (T1 = 500 ms).
/// Time comes from `eventLoop.now`, so tests drive it with `EmbeddedEventLoop.advanceTime`.
/// Confined to `eventLoop`: every method must be called on it.
public final class TimerWheel {
    /// Identifies a scheduled timer for `cancel`.
    public struct Token: Hashable, Sendable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        let dueTick: Int64
        let body: () -> Void
    }

    public let eventLoop: any EventLoop
    private let tick: TimeAmount
    private let origin: NIODeadline
    private var slots: [[UInt64]]
    private var entries: [UInt64: Entry] = [:]
    private var nextID: UInt64 = 0
    /// The last tick whose slot has been processed.
    private var processedTick: Int64
    private var driver: RepeatedTask?

    public init(eventLoop: any EventLoop, tick: TimeAmount = .milliseconds(10), slotCount: Int = 4096) {
        precondition(tick.nanoseconds > 0 && slotCount > 0)
        self.eventLoop = eventLoop
        self.tick = tick
        self.origin = eventLoop.now
        self.slots = Array(repeating: [], count: slotCount)
        self.processedTick = 0
    }

    /// Timers waiting to fire.
    public var count: Int { entries.count }

    /// Runs `body` on the loop after `delay` (rounded up to the next tick), unless cancelled.
    @discardableResult
    public func schedule(in delay: TimeAmount, _ body: @escaping () -> Void) -> Token {
        eventLoop.assertInEventLoop()
        let ticks = max(1, (delay.nanoseconds + tick.nanoseconds - 1) / tick.nanoseconds)
        let due = currentTick() + ticks
        nextID &+= 1
        entries[nextID] = Entry(dueTick: due, body: body)
        slots[slotIndex(due)].append(nextID)
        startDriverIfNeeded()
        return Token(id: nextID)
    }

    /// Cancels a timer; a no-op when it already fired or was cancelled.
    public func cancel(_ token: Token) {
        eventLoop.assertInEventLoop()
        entries[token.id] = nil
    }

    /// Stops the tick; pending timers are dropped (shutdown).
    public func stop() {
        driver?.cancel()
        driver = nil
        entries.removeAll()
        for index in slots.indices { slots[index].removeAll() }
    }

    private func currentTick() -> Int64 {
        (eventLoop.now - origin).nanoseconds / tick.nanoseconds
    }

    private func slotIndex(_ tick: Int64) -> Int { Int(tick % Int64(slots.count)) }

    private func startDriverIfNeeded() {
        guard driver == nil else { return }
        // Catch up silently on the ticks that passed while idle: no timer was waiting in them.
        processedTick = currentTick()
        driver = eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { [weak self] _ in
            self?.advance()
        }
    }

    /// Processes every tick up to now (a late wake-up processes several), firing due timers.
    private func advance() {
        let now = currentTick()
        while processedTick < now, !entries.isEmpty {
            processedTick += 1
            fireSlot(for: processedTick)
        }
        if entries.isEmpty {
            driver?.cancel()
            driver = nil
        }
    }

    private func fireSlot(for tick: Int64) {
        let index = slotIndex(tick)
        let ids = slots[index]
        guard !ids.isEmpty else { return }
        slots[index].removeAll(keepingCapacity: true)
        var due: [() -> Void] = []
        for id in ids {
            guard let entry = entries[id] else { continue }  // cancelled
            if entry.dueTick <= tick {
                entries[id] = nil
                due.append(entry.body)
            } else {
                slots[index].append(id)  // a later lap of the wheel
            }
        }
        // Bodies run after the slot is consistent: they may schedule or cancel other timers.
        for body in due { body() }
    }
}
