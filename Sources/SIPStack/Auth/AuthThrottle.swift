/// Slows down password guessing: after `maxFailures` failed authentications from one source IP
/// within `window`, that source is blocked for `initialBlock`; each further block doubles, up to
/// `maxBlock`. A success resets the source. While blocked, the driver answers 403 (or drops the
/// request, its choice) without checking credentials at all.
///
/// Memory is bounded: at most `capacity` sources are tracked, the oldest-tracked forgotten first
/// (an attacker rotating addresses can only push out other entries, never grow the table).
/// Value type with the time passed in, like every state machine here (STYLE.md §3, §4).
public struct AuthThrottle: Sendable {
    public struct Settings: Sendable {
        public var maxFailures: Int
        public var window: Duration
        public var initialBlock: Duration
        public var maxBlock: Duration
        public var capacity: Int

        public init(
            maxFailures: Int = 5, window: Duration = .seconds(60), initialBlock: Duration = .seconds(30),
            maxBlock: Duration = .seconds(900), capacity: Int = 16_384
        ) {
            precondition(maxFailures > 0 && capacity > 0)
            self.maxFailures = maxFailures
            self.window = window
            self.initialBlock = initialBlock
            self.maxBlock = maxBlock
            self.capacity = capacity
        }
    }

    public enum Decision: Sendable, Hashable {
        case allow
        /// Blocked until `until` (for logs or a `Retry-After` hint).
        case blocked(until: ContinuousClock.Instant)
    }

    struct SourceState: Sendable {
        var failures: Int
        var windowStart: ContinuousClock.Instant
        var blockedUntil: ContinuousClock.Instant?
        /// How many times this source has been blocked in a row (drives the back-off).
        var strikes: Int
    }

    public let settings: Settings
    private var sources: BoundedTable<String, SourceState>

    public init(settings: Settings = Settings()) {
        self.settings = settings
        self.sources = BoundedTable(capacity: settings.capacity)
    }

    /// Number of sources currently tracked (bounded by `settings.capacity`).
    public var trackedSources: Int { sources.count }

    /// Ask before verifying credentials from `source` (an IP address without port).
    public func check(source: String, now: ContinuousClock.Instant) -> Decision {
        if let until = sources[source]?.blockedUntil, now < until { return .blocked(until: until) }
        return .allow
    }

    /// Record a `.failed` verdict. Returns the decision for the next request from this source.
    @discardableResult
    public mutating func recordFailure(source: String, now: ContinuousClock.Instant) -> Decision {
        var state = sources[source] ?? SourceState(failures: 0, windowStart: now, blockedUntil: nil, strikes: 0)
        if let until = state.blockedUntil {
            if now < until { return .blocked(until: until) }
            // A source that behaved for a whole `maxBlock` after its last block starts over.
            if now - until > settings.maxBlock { state.strikes = 0 }
            state.blockedUntil = nil
        }
        if now - state.windowStart > settings.window {
            state.failures = 0
            state.windowStart = now
        }
        state.failures += 1
        var decision = Decision.allow
        if state.failures >= settings.maxFailures {
            let block = blockDuration(strike: state.strikes)
            let until = now + block
            state.blockedUntil = until
            state.strikes += 1
            state.failures = 0
            state.windowStart = until
            decision = .blocked(until: until)
        }
        sources.set(source, state)
        return decision
    }

    /// Record a successful authentication: the source starts clean.
    public mutating func recordSuccess(source: String) {
        sources.remove(source)
    }

    func blockDuration(strike: Int) -> Duration {
        var block = settings.initialBlock
        for _ in 0..<min(strike, 32) {
            block = block * 2
            if block >= settings.maxBlock { return settings.maxBlock }
        }
        return min(block, settings.maxBlock)
    }
}
