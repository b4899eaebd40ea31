import PBXCore
import RTPMedia

/// What a waiting caller hears between announcements: music on hold (`musicclass`) or, with
/// Queue option `r`, ringing.
enum HoldSound: Sendable {
    case music(ContinuousSound)
    case ringing
    /// No music class with files: silence between announcements.
    case silence

    static let ringTone = try! TonePlan(parsing: "440+480/2000,0/4000")
    /// Replaces whatever the caller hears with silence (to stop a playback in flight).
    static let quiet = TonePlan(elements: [.init(0)])
}

/// The caller's hold media: one background loop plays the hold sound and the position and
/// periodic announcements at their frequencies; `stop()` ends it for good before the agent-id
/// announcement or the bridge, so nothing it started can talk over them.
///
/// A playback in flight can only be stopped by starting another one on the channel, so `stop`
/// closes the gate, then plays silence until the loop has noticed and returned.
actor CallerMedia {
    private var open = true
    private var running = false
    /// When the caller's place in line is said (app_queue's say_position).
    private(set) var announcer: PositionAnnouncer
    /// The caller's place in line as last learnt (from the engine).
    private(set) var position: Int?
    /// The loop is playing the hold sound, which a due announcement may cut short.
    private var holding = false
    /// Set when a due announcement cut the hold sound short; the loop takes it.
    private var woken = false
    /// Cuts the hold sound short when the next position announcement falls due.
    private var wakeTask: Task<Void, Never>?

    init(announcer: PositionAnnouncer = PositionAnnouncer(frequency: 0, minimumGap: 0)) {
        self.announcer = announcer
    }

    /// Whether the loop may start another playback.
    var isOpen: Bool { open }

    // MARK: Position announcements

    /// Whether the loop should say `position` now (remembered as the caller's position).
    func positionDue(_ position: Int, at now: ContinuousClock.Instant) -> Bool {
        self.position = position
        return announcer.isDue(position: position, at: now)
    }

    func positionSaid(_ position: Int, at now: ContinuousClock.Instant) {
        announcer.said(position, at: now)
    }

    /// When the loop must look again for the current position (nil: no need).
    var nextPositionCheck: ContinuousClock.Instant? { position.flatMap { announcer.nextDue(position: $0) } }

    /// The engine moved the caller in line: when that makes an announcement due (now, or once
    /// the minimum gap has passed), the hold sound is cut short then so the loop says it.
    func positionChanged(to position: Int, on channel: any CallChannel) {
        self.position = position
        guard let due = announcer.nextDue(position: position) else { return }
        wakeTask?.cancel()
        wakeTask = Task {
            try? await Task.sleep(until: due, clock: .continuous)
            guard !Task.isCancelled else { return }
            await self.wake(channel)
        }
    }

    private func wake(_ channel: any CallChannel) async {
        guard open, holding else { return }
        woken = true
        // A playback in flight only stops when another starts: the quiet tone ends the music.
        _ = await channel.startTones(HoldSound.quiet)
    }

    /// The loop starts or ends playing the hold sound.
    func setHolding(_ holding: Bool) {
        self.holding = holding
        if !holding { woken = false }
    }

    /// Whether a due announcement cut the hold sound short (quiet waits poll this).
    var wasWoken: Bool { woken }

    func start(_ body: @escaping @Sendable () async -> Void) {
        open = true
        running = true
        Task {
            await body()
            self.loopEnded()
        }
    }

    private func loopEnded() { running = false }

    /// Stops the loop and whatever it plays; returns when nothing of it can play any more.
    func stop(on channel: any CallChannel) async {
        open = false
        wakeTask?.cancel()
        var attempts = 0
        while running, attempts < 50 {
            attempts += 1
            _ = await channel.startTones(HoldSound.quiet)
            for _ in 0..<10 where running { try? await Task.sleep(for: .milliseconds(10)) }
        }
        if attempts > 0 { await channel.stopTones() }
    }
}

/// The outbound legs ringing members for one caller, so the session can stop some or all.
actor MemberLegs {
    private var legs: [String: any CallChannel] = [:]
    private var cancelled: Set<String> = []

    func add(_ interface: String, _ channel: any CallChannel) { legs[interface] = channel }

    var isEmpty: Bool { legs.isEmpty }

    func remove(_ interface: String) { legs[interface] = nil }

    /// Whether the session stopped this leg itself (its failure is then no RINGNOANSWER).
    func wasCancelled(_ interface: String) -> Bool { cancelled.contains(interface) }

    func cancel(_ interface: String) async {
        guard let channel = legs.removeValue(forKey: interface) else { return }
        cancelled.insert(interface)
        await channel.hangup(cause: .normalClearing)
    }

    func cancelAll(except keep: String? = nil) async {
        for interface in legs.keys where interface != keep { await cancel(interface) }
    }
}
