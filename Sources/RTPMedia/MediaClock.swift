import NIOConcurrencyHelpers
import NIOCore

/// Something paced by a `MediaClock`: a playback, later a mixer or music on hold.
///
/// Called on the clock's event loop. `frames` (≥ 1) is how many 20 ms frames are due since the
/// last tick: normally 1, more when the loop was late, so that the subscriber sends that many
/// frames at once and its media time keeps up with real time instead of drifting.
public protocol MediaClockSubscriber: AnyObject {
    func tick(frames: Int)
}

/// The arithmetic of a drift-free 20 ms clock, as a value (STYLE.md §3, §4): frame `k` is due at
/// `origin + k × interval`; a tick at time `now` delivers every frame due by then that was not
/// delivered yet, and the next tick is scheduled for the next frame's deadline — not "now + 20 ms",
/// which would add each tick's lateness to all later ones.
///
/// When more than `maxFramesPerTick` frames are due (the loop was blocked for a long time), only
/// that many are delivered and the origin moves forward: a burst of seconds of audio would only
/// overflow the phone's jitter buffer.
public struct MediaClockSchedule: Equatable, Sendable {
    public let interval: TimeAmount
    public let maxFramesPerTick: Int
    /// When frame 0 was due.
    public private(set) var origin: NIODeadline
    /// Frames delivered since `origin`.
    public private(set) var delivered: Int64 = 0

    public init(origin: NIODeadline, interval: TimeAmount = .milliseconds(20), maxFramesPerTick: Int = 10) {
        precondition(interval.nanoseconds > 0 && maxFramesPerTick >= 1)
        self.origin = origin
        self.interval = interval
        self.maxFramesPerTick = maxFramesPerTick
    }

    /// When the next frame is due.
    public var nextDeadline: NIODeadline {
        self.origin + .nanoseconds(self.interval.nanoseconds * (self.delivered + 1))
    }

    /// Frames due at `now` (0 when woken early), marked delivered.
    public mutating func tick(at now: NIODeadline) -> Int {
        let elapsed = (now - self.origin).nanoseconds
        guard elapsed > 0 else { return 0 }
        let due = elapsed / self.interval.nanoseconds
        var frames = due - self.delivered
        guard frames > 0 else { return 0 }
        if frames > Int64(self.maxFramesPerTick) {
            // Forget the backlog beyond the cap: frame `delivered + max` becomes "due now".
            self.origin = self.origin + .nanoseconds((frames - Int64(self.maxFramesPerTick)) * self.interval.nanoseconds)
            frames = Int64(self.maxFramesPerTick)
        }
        self.delivered += frames
        return Int(frames)
    }
}

/// One repeating 20 ms tick for all the media of an event loop (DESIGN.md §3: one shared clock
/// per loop, not a timer per call). It runs only while it has subscribers: the first `subscribe`
/// starts it, the last `unsubscribe` stops it.
///
/// All methods except `init` must be called on `eventLoop`. A subscriber is held strongly while
/// subscribed, so a playback keeps itself alive until it ends.
public final class MediaClock: Sendable {
    public static let frameInterval = TimeAmount.milliseconds(20)

    public let eventLoop: EventLoop
    public let maxFramesPerTick: Int
    private let state: NIOLoopBoundBox<State>

    private final class State {
        /// A removed subscriber leaves a nil until the tick in progress ends (see `tick`).
        var subscribers: [(any MediaClockSubscriber)?] = []
        var live = 0
        var schedule: MediaClockSchedule?
        var timer: Scheduled<Void>?
        /// Bumped on every start/stop, so that a timer that fires after a stop is ignored.
        var generation = 0
        var ticking = false
        var ticks = 0
    }

    public init(eventLoop: EventLoop, maxFramesPerTick: Int = 10) {
        self.eventLoop = eventLoop
        self.maxFramesPerTick = maxFramesPerTick
        self.state = .makeBoxSendingValue(State(), eventLoop: eventLoop)
    }

    /// Subscribers currently ticked (on the loop).
    public var subscriberCount: Int { self.state.value.live }
    /// Whether the repeating timer is armed (on the loop).
    public var isRunning: Bool { self.state.value.schedule != nil }
    /// Timer firings since creation (on the loop); for tests and metrics.
    public var tickCount: Int { self.state.value.ticks }

    /// Adds a subscriber; its first tick comes at the clock's next 20 ms boundary (at most 20 ms).
    public func subscribe(_ subscriber: any MediaClockSubscriber) {
        let state = self.state.value
        precondition(!state.subscribers.contains { $0 === subscriber }, "subscribed twice")
        state.subscribers.append(subscriber)
        state.live += 1
        if state.schedule == nil {
            state.generation += 1
            state.schedule = MediaClockSchedule(
                origin: self.eventLoop.now, interval: Self.frameInterval, maxFramesPerTick: self.maxFramesPerTick)
            self.arm(state)
        }
    }

    /// Removes a subscriber (no-op if absent); may be called from inside its own `tick`.
    public func unsubscribe(_ subscriber: any MediaClockSubscriber) {
        let state = self.state.value
        guard let index = state.subscribers.firstIndex(where: { $0 === subscriber }) else { return }
        if state.ticking {
            state.subscribers[index] = nil  // compacted when the tick ends, indices stay valid
        } else {
            state.subscribers.remove(at: index)
        }
        state.live -= 1
        if state.live == 0 {
            state.timer?.cancel()
            state.timer = nil
            state.schedule = nil
            state.generation += 1
        }
    }

    private func arm(_ state: State) {
        guard let deadline = state.schedule?.nextDeadline else { return }
        let generation = state.generation
        state.timer = self.eventLoop.scheduleTask(deadline: deadline) { [self] in
            self.fire(generation: generation)
        }
    }

    private func fire(generation: Int) {
        let state = self.state.value
        guard generation == state.generation, var schedule = state.schedule else { return }
        let frames = schedule.tick(at: self.eventLoop.now)
        state.schedule = schedule
        state.ticks += 1
        if frames > 0 {
            state.ticking = true
            // Subscribers added during this tick start on the next one.
            let count = state.subscribers.count
            var i = 0
            while i < count {
                if let s = state.subscribers[i] { s.tick(frames: frames) }
                i += 1
            }
            state.ticking = false
            if state.live != state.subscribers.count { state.subscribers.removeAll { $0 == nil } }
        }
        if generation == state.generation { self.arm(state) }
    }
}

/// The clocks of an event loop group, one per loop, made on first use.
final class MediaClocks: Sendable {
    private let clocks = NIOLockedValueBox<[ObjectIdentifier: MediaClock]>([:])

    func clock(for loop: EventLoop) -> MediaClock {
        self.clocks.withLockedValue { clocks in
            let key = ObjectIdentifier(loop)
            if let c = clocks[key] { return c }
            let c = MediaClock(eventLoop: loop)
            clocks[key] = c
            return c
        }
    }
}
