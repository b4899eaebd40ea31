/// When to tell a waiting caller its place in line, as app_queue's `say_position` decides:
/// never sooner than `min-announce-frequency` after the last announcement; after that, as
/// soon as the position differs from the one last said, or once `announce-frequency` has
/// passed since. A value (STYLE.md §3): the instants come from the caller, so tests pass
/// their own.
struct PositionAnnouncer: Sendable {
    /// `announce-frequency`; zero: no position announcements at all.
    let frequency: Duration
    /// `min-announce-frequency`.
    let minimumGap: Duration
    private(set) var lastSaid: (position: Int, at: ContinuousClock.Instant)?

    init(frequency seconds: Int, minimumGap minimumSeconds: Int) {
        frequency = .seconds(max(0, seconds))
        minimumGap = .seconds(max(0, minimumSeconds))
    }

    var isEnabled: Bool { frequency > .zero }

    /// Whether `position` should be announced at `now`.
    func isDue(position: Int, at now: ContinuousClock.Instant) -> Bool {
        guard isEnabled else { return false }
        guard let last = lastSaid else { return true }
        let since = last.at.duration(to: now)
        guard since >= minimumGap else { return false }
        return position != last.position || since >= frequency
    }

    /// The earliest instant an announcement can be due while the caller stays at `position`
    /// (nil: never, or due now when nothing was said yet).
    func nextDue(position: Int) -> ContinuousClock.Instant? {
        guard isEnabled, let last = lastSaid else { return nil }
        return last.at + (position != last.position ? minimumGap : max(minimumGap, frequency))
    }

    mutating func said(_ position: Int, at now: ContinuousClock.Instant) {
        lastSaid = (position, now)
    }
}
