import Dialplan
import Foundation
import Logging
import PBXCore

/// One caller's stay in a queue, from joining to the end of its call (app_queue's
/// `wait_our_turn` + `try_calling`, run concurrently rather than in turns):
/// - the engine's instructions start ring attempts at once, each in its own task, so no
///   announcement ever delays a free agent's call;
/// - the hold loop plays music (or ringing) and the position/periodic announcements;
/// - watchers report the caller hanging up, a key for the queue's `context`, and the timeout.
/// The first member to answer is announced (agent id to the caller, `announce` to the agent)
/// and bridged; the other members keep ringing until that bridge is confirmed.
struct QueueCallSession: Sendable {
    var engine: QueueEngine
    var dialer: any CallDialer
    var channel: any CallChannel
    var settings: QueueSettings
    var options: QueueOptions
    /// Queue()'s own timeout: the most the caller waits in line.
    var timeout: Duration?
    var hold: HoldSound
    var language: String
    /// Whether a key is an extension of the queue's `context` (EXITWITHKEY).
    var exitKey: @Sendable (Character) -> Bool
    var logger: Logger
    /// Where a redirect sends the caller out of the bridge (queue_log BLINDTRANSFER).
    var transferTarget: @Sendable () -> DialplanLocation?

    enum Outcome: Sendable, Equatable {
        /// Bridged; the call is over. `.agent`: the member hung up first.
        case completed(CompletionReason)
        case exited(QueueExit)
        case leftEmpty(QueueStatus)
    }

    private enum Event: Sendable {
        case instruction(QueueInstruction)
        case answered(RingAssignment, PlacedCall, ContinuousClock.Instant)
        case ringEnded
        case callerHungUp
        case timedOut
        case key(Character)
    }

    /// - Parameter recordBridge: runs once a member is connected, just before the bridge
    ///   (queue recording); on the caller's own task, so it may use the dialplan run.
    func run(instructions: AsyncStream<QueueInstruction>, recordBridge: () async -> Void = {}) async -> Outcome {
        let (events, sink) = AsyncStream<Event>.makeStream()
        let legs = MemberLegs()
        let media = CallerMedia(announcer: PositionAnnouncer(frequency: settings.announceFrequency, minimumGap: settings.minAnnounceFrequency))
        let joinedAt = ContinuousClock.now
        await media.start { await holdLoop(media: media, joinedAt: joinedAt) }
        let outcome = await withTaskGroup(of: Void.self) { group -> Outcome in
            group.addTask {
                for await instruction in instructions { sink.yield(.instruction(instruction)) }
            }
            group.addTask { await watchHangup(sink) }
            if settings.context != nil { group.addTask { await watchKeys(sink, media: media) } }
            if let timeout {
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { sink.yield(.timedOut) }
                }
            }
            var outcome: Outcome?
            for await event in events {
                switch event {
                case .instruction(.ring(let assignment)):
                    group.addTask { await ring(assignment, legs: legs, sink: sink) }
                case .instruction(.cancelRing(let interface)):
                    await legs.cancel(interface)
                case .instruction(.leave(let status)):
                    outcome = .leftEmpty(status)
                case .instruction(.positionChanged(let position)):
                    await media.positionChanged(to: position, on: channel)
                case .answered(let assignment, let placed, let started):
                    guard await engine.answered(queue: settings.name, caller: channel.uniqueID, interface: assignment.interface) else {
                        continue
                    }
                    outcome = await connect(assignment, placed, ringStarted: started, media: media, legs: legs, joinedAt: joinedAt,
                                            recordBridge: recordBridge)
                case .ringEnded:
                    if options.noRetry, await legs.isEmpty { outcome = .exited(.timeout) }
                case .callerHungUp:
                    outcome = .exited(.abandon)
                case .timedOut:
                    outcome = .exited(.timeout)
                case .key(let key):
                    outcome = .exited(.key(key))
                }
                if outcome != nil { break }
            }
            sink.finish()
            group.cancelAll()
            return outcome ?? .exited(.abandon)
        }
        await media.stop(on: channel)
        await legs.cancelAll()
        switch outcome {
        case .exited(let exit):
            await engine.leave(queue: settings.name, caller: channel.uniqueID, because: exit, snapshot: await channel.snapshot)
        case .leftEmpty:
            await engine.leave(queue: settings.name, caller: channel.uniqueID, because: .empty, snapshot: await channel.snapshot)
        case .completed:
            break
        }
        return outcome
    }

    // MARK: Ringing a member

    private func ring(_ assignment: RingAssignment, legs: MemberLegs, sink: AsyncStream<Event>.Continuation) async {
        let started = ContinuousClock.now
        let callerSnapshot = await channel.snapshot
        guard let target = CallTarget(assignment.interface) else {
            await engine.ringNoAnswer(queue: settings.name, caller: callerSnapshot, interface: assignment.interface, agent: nil, ringTime: .zero,
                                      cause: .invalidNumberFormat)
            return
        }
        let placement = await dialer.place(target, for: channel, options: PlaceOptions(timeout: assignment.timeout))
        guard case .success(let placed) = placement else {
            var cause = HangupCause.normalCircuitCongestion
            if case .failure(let failure) = placement {
                cause = failure.cause
                logger.info("Queue: cannot call member", metadata: ["member": "\(assignment.interface)", "reason": "\(failure)"])
            }
            await engine.ringNoAnswer(queue: settings.name, caller: callerSnapshot, interface: assignment.interface, agent: nil, ringTime: .zero,
                                      cause: cause)
            sink.yield(.ringEnded)
            return
        }
        await legs.add(assignment.interface, placed.channel)
        await engine.agentCalled(queue: settings.name, caller: callerSnapshot, interface: assignment.interface, agent: await placed.channel.snapshot)
        var cause = HangupCause.noAnswer
        for await progress in placed.progress {
            switch progress {
            case .ringing:
                continue
            case .answered:
                sink.yield(.answered(assignment, placed, started))
                return
            case .failed(let failure):
                cause = failure
            }
        }
        // Failed, timed out, or stopped by us — or the caller's stay is over (cancelled): then
        // it is no RINGNOANSWER.
        guard !Task.isCancelled, await !legs.wasCancelled(assignment.interface) else { return }
        await legs.remove(assignment.interface)
        await engine.ringNoAnswer(queue: settings.name, caller: await channel.snapshot, interface: assignment.interface,
                                  agent: await placed.channel.snapshot, ringTime: started.duration(to: .now), cause: cause)
        sink.yield(.ringEnded)
    }

    // MARK: Connecting the member who answered

    /// Announces and bridges; nil when the member dropped before the bridge (the caller waits
    /// on, other members still ringing).
    private func connect(_ assignment: RingAssignment, _ placed: PlacedCall, ringStarted: ContinuousClock.Instant,
                         media: CallerMedia, legs: MemberLegs, joinedAt: ContinuousClock.Instant,
                         recordBridge: () async -> Void) async -> Outcome? {
        let agent = placed.channel
        let holdSeconds = Int(joinedAt.duration(to: .now).components.seconds)
        await media.stop(on: channel)
        let callerPrompts = settings.announceAgentID ? QueuePrompts.agentID(prompt: settings.agentIDPrompt, number: assignment.spokenNumber) : []
        let agentPrompts = QueuePrompts.toAgent(settings: settings, holdTime: holdSeconds)
        async let toCaller: PlaybackResult = callerPrompts.isEmpty ? .finished : channel.play(callerPrompts, language: language, interruptDigits: "")
        async let toAgent: PlaybackResult = agentPrompts.isEmpty ? .finished : agent.play(agentPrompts, language: language, interruptDigits: "")
        let (callerHeard, _) = await (toCaller, toAgent)
        if case .missing(let prompt) = callerHeard {
            logger.warning("Queue: agent-id prompt missing; connecting without it", metadata: ["prompt": "\(prompt)"])
        }
        if await channel.isHungUp {
            await legs.cancelAll()
            return .exited(.abandon)
        }
        if await agent.isHungUp {
            await legs.remove(assignment.interface)
            await engine.agentDumped(queue: settings.name, caller: await channel.snapshot, interface: assignment.interface, agent: await agent.snapshot)
            await media.start { await holdLoop(media: media, joinedAt: joinedAt) }
            return nil
        }
        let callerSnapshot = await channel.snapshot
        await engine.connected(queue: settings.name, caller: callerSnapshot, interface: assignment.interface,
                               agent: await agent.snapshot, ringTime: ringStarted.duration(to: .now))
        await legs.cancelAll(except: assignment.interface)
        await recordBridge()
        let end = await dialer.bridge(channel, with: agent, features: options.bridgeFeatures)
        let reason: CompletionReason
        switch end {
        case .callerHungUp:
            reason = .caller
            await agent.hangup(cause: .normalClearing)
        case .calleeHungUp:
            reason = .agent
        case .callerRedirected:
            let target = transferTarget()
            reason = .transfer(exten: target?.exten ?? "", context: target?.context ?? "")
            await agent.hangup(cause: .normalClearing)
        case .refused(let why):
            logger.error("Queue: cannot bridge caller and member", metadata: ["member": "\(assignment.interface)", "reason": "\(why)"])
            reason = .agent
            await agent.hangup(cause: .normalClearing)
        }
        await legs.remove(assignment.interface)
        await engine.completed(caller: await channel.snapshot, agent: await agent.snapshot, by: reason)
        return .completed(reason)
    }

    // MARK: While waiting

    /// Music (or ringing) with the position announcements (`PositionAnnouncer`: on a change
    /// of position or every `announce-frequency`, never closer than `min-announce-frequency`)
    /// and the periodic ones.
    private func holdLoop(media: CallerMedia, joinedAt: ContinuousClock.Instant) async {
        let announcesPosition = await media.announcer.isEnabled
        let periodicEvery = settings.periodicAnnounce.isEmpty ? 0 : settings.periodicAnnounceFrequency
        var nextPeriodic: ContinuousClock.Instant? = periodicEvery > 0 ? joinedAt + .seconds(periodicEvery) : nil
        var periodicIndex = 0
        var holdTimeSaid = false
        while await media.isOpen, !Task.isCancelled {
            let now = ContinuousClock.now
            if announcesPosition {
                guard let where_ = await engine.position(queue: settings.name, caller: channel.uniqueID) else { return }
                if await media.positionDue(where_.position, at: now) {
                    await media.positionSaid(where_.position, at: now)
                    await sayPosition(where_, holdTimeSaid: &holdTimeSaid)
                    continue
                }
            }
            if let due = nextPeriodic, due <= now {
                nextPeriodic = now + .seconds(periodicEvery)
                _ = await channel.play([settings.periodicAnnounce[periodicIndex % settings.periodicAnnounce.count]], language: language, interruptDigits: "")
                periodicIndex += 1
                continue
            }
            guard await media.isOpen else { return }
            let next = [await media.nextPositionCheck, nextPeriodic].compactMap { $0 }.min()
            let slice = next.map { now.duration(to: $0) }
            await media.setHolding(true)
            switch hold {
            case .music(let sound):
                if case .failed(let why) = await channel.playContinuous(sound, duration: slice) {
                    logger.warning("Queue: music on hold failed; waiting in silence", metadata: ["reason": "\(why)"])
                    await waitQuietly(slice, media: media)
                }
            case .ringing:
                _ = await channel.startTones(HoldSound.ringTone)
                await waitQuietly(slice, media: media)
            case .silence:
                await waitQuietly(slice, media: media)
            }
            await media.setHolding(false)
            if await channel.isHungUp { return }
        }
    }

    /// "You are number N in line" (and the hold time as `announce-holdtime` says).
    private func sayPosition(_ where_: (position: Int, count: Int, holdTime: Int), holdTimeSaid: inout Bool) async {
        let sayHold = settings.announceHoldTime == .yes || (settings.announceHoldTime == .once && !holdTimeSaid)
        guard let prompts = QueuePrompts.position(where_.position, holdTime: where_.holdTime, settings: settings, includeHoldTime: sayHold) else {
            return
        }
        holdTimeSaid = holdTimeSaid || sayHold
        _ = await channel.play(prompts, language: language, interruptDigits: "")
    }

    /// Waits `limit` (nil: until stopped) in short steps, so `CallerMedia.stop` or a due
    /// position announcement is seen soon.
    private func waitQuietly(_ limit: Duration?, media: CallerMedia) async {
        let until = limit.map { ContinuousClock.now + $0 }
        while await media.isOpen, await !media.wasWoken, !Task.isCancelled {
            if let until, ContinuousClock.now >= until { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    private func watchHangup(_ sink: AsyncStream<Event>.Continuation) async {
        while !Task.isCancelled {
            if await channel.waitForHangup(timeout: .milliseconds(250)) {
                sink.yield(.callerHungUp)
                return
            }
        }
    }

    private func watchKeys(_ sink: AsyncStream<Event>.Continuation, media: CallerMedia) async {
        while !Task.isCancelled {
            guard let digit = await channel.receiveDigit(timeout: .milliseconds(250)) else { continue }
            if exitKey(digit), await media.isOpen {
                sink.yield(.key(digit))
                return
            }
        }
    }
}

