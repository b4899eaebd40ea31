import NIOCore
import RTPMedia
import SIPStack

/// The channel's own media while it is not bridged (IVR): prompts played to the caller from
/// the shared media clock, and the DTMF digits it presses (RFC 4733), buffered as Asterisk does
/// so that a digit pressed during one prompt is there for the next Read or WaitExten.
extension SIPChannel {
    public func play(_ prompts: [String], language: String, interruptDigits: String) async -> PlaybackResult {
        guard let endpoint = await localMediaEndpoint(), let codec = await playbackCodec() else { return .hungUp }
        for prompt in prompts {
            if let digit = await takeBufferedDigit(in: interruptDigits) { return .interrupted(digit: digit) }
            guard let law = G711Law(codec: codec),
                let file = driver.media.sounds.find(prompt, language: language, preferring: AudioFileFormat(channelCodec: codec) ?? .wav),
                let frames = try? FrameSource(file, law: law)
            else {
                logger.warning("sound not found", metadata: ["prompt": "\(prompt)", "language": "\(language)"])
                return .missing(prompt: prompt)
            }
            let player = await endpoint.play(frames, codec: codec, interruptible: !interruptDigits.isEmpty)
            await stopWhenWaitEnds(player)
            let outcome = (try? await player.outcome.get()) ?? .stopped
            if await isStopped { return .hungUp }
            switch outcome {
            case .finished:
                continue
            case .interrupted:
                // The key's start stopped the prompt; the digit itself is reported at its end.
                if let digit = await receiveDigit(timeout: .seconds(1), matching: interruptDigits) {
                    return .interrupted(digit: digit)
                }
            case .stopped:
                return .hungUp
            }
        }
        return .finished
    }

    public func receiveDigit(timeout: Duration) async -> Character? {
        await receiveDigit(timeout: timeout, matching: nil)
    }

    /// Waits for a buffered digit (one of `matching`, when given; others stay buffered).
    func receiveDigit(timeout: Duration, matching: String?) async -> Character? {
        guard await localMediaEndpoint() != nil else { return nil }
        let nanos = timeout.nanoseconds
        let promise = eventLoop.makePromise(of: Character?.self)
        eventLoop.execute {
            guard !self.isInterrupted else { return promise.succeed(nil) }
            if let digit = self.digits.take(matching: matching) { return promise.succeed(digit) }
            guard self.hangupCause == nil else { return promise.succeed(nil) }
            let timer = self.driver.timers.schedule(in: .nanoseconds(max(0, nanos))) {
                self.digits.cancelWaiter(promise)
                promise.succeed(nil)
            }
            self.digits.addWaiter(promise, matching: matching) { self.driver.timers.cancel(timer) }
            self.waitEnded.whenSuccess {
                self.driver.timers.cancel(timer)
                self.digits.cancelWaiter(promise)
                promise.succeed(nil)
            }
        }
        return (try? await promise.futureResult.get()) ?? nil
    }

    /// Stops `player` as soon as the channel hangs up or an async goto interrupts it.
    func stopWhenWaitEnds(_ player: RTPPlayer) async {
        try? await eventLoop.submit {
            self.waitEnded.whenSuccess { Task { await player.stop() } }
        }.get()
    }

    private func takeBufferedDigit(in set: String) async -> Character? {
        guard !set.isEmpty else { return nil }
        return try? await eventLoop.submit { self.digits.take(matching: set) }.get()
    }

    /// Attaches the leg's local media (once; after an answer and before any bridge) with the DTMF
    /// detection the peer's `dtmfmode` asks for: RFC 4733 events, in-band tones (spandsp), or
    /// both for `auto` without telephone-event. (INFO digits arrive through `handleInfo`.)
    func localMediaEndpoint() async -> LocalMediaEndpoint? {
        // One snapshot of the loop-confined state: the negotiation changes on the SIP loop.
        guard let snapshot = try? await eventLoop.submit({ () -> MediaSnapshot in
            MediaSnapshot(
                existing: self.localMedia,
                usable: self.hangupCause == nil && (self.bridgedPeer == nil || self.bridgePaused) && self.channelState == .up,
                telephoneEvent: self.media.telephoneEventPayloadType, session: self.media.relay.session, side: self.media.side,
                controlsInFlight: self.media.relay.inFlight)
        }).get() else { return nil }
        if let existing = snapshot.existing { return existing }
        guard snapshot.usable else { return nil }
        // After the unlink a redirect or a transfer issued just before (local media needs an
        // unlinked leg).
        await snapshot.controlsInFlight?.value
        let (telephoneEvent, inband) = Self.dtmfDetection(peer.dtmfMode, negotiated: snapshot.telephoneEvent)
        let handler = DTMFDetection.handler(telephoneEventPayloadType: telephoneEvent, inband: inband) { [weak self] event in
            guard let self else { return }
            self.eventLoop.execute {
                switch event {
                case .begin(let begin):
                    self.publishEvent { .dtmfBegin($0, digit: begin.digit.character, direction: .received) }
                case .end(let end):
                    let milliseconds = Self.milliseconds(end.duration)
                    self.publishEvent { .dtmfEnd($0, digit: end.digit.character, durationMs: milliseconds, direction: .received) }
                    self.digitArrived(end.digit.character)
                }
            }
        }
        guard let endpoint = try? await snapshot.session.attachLocal(snapshot.side, handler: handler) else { return nil }
        // attachLocal replaced any earlier attachment, so the newest endpoint is the live one.
        return try? await eventLoop.submit { () -> LocalMediaEndpoint in
            self.localMedia = endpoint
            return endpoint
        }.get()
    }

    /// Which detectors a `dtmfmode` needs: (telephone-event payload type, in-band tones).
    static func dtmfDetection(_ mode: DTMFMode, negotiated: UInt8?) -> (UInt8?, Bool) {
        switch mode {
        case .rfc2833: (negotiated ?? 101, false)
        case .inband: (nil, true)
        case .auto: (negotiated, negotiated == nil)
        case .info, .shortinfo: (nil, false)
        }
    }

    /// The codec prompts go out in, read on the loop that owns the negotiation.
    func playbackCodec() async -> Codec? {
        (try? await eventLoop.submit { self.media.playbackCodec }.get()) ?? nil
    }

    private func digitArrived(_ digit: Character) {
        logger.debug("DTMF received", metadata: ["digit": "\(digit)"])
        digits.push(digit)
    }
}

/// What `localMediaEndpoint` needs from the loop, read in one hop.
struct MediaSnapshot: Sendable {
    var existing: LocalMediaEndpoint?
    var usable: Bool
    var telephoneEvent: UInt8?
    var session: RelaySession
    var side: RelayLeg
    /// The relay control operations issued so far (`RelayControl.inFlight`).
    var controlsInFlight: Task<Void, Never>?
}

/// Digits pressed and not yet read, and the tasks waiting for one. Loop-confined (SIP loop).
struct DigitBuffer {
    private var pending: [Character] = []
    private var waiters: [(promise: EventLoopPromise<Character?>, matching: String?, done: () -> Void)] = []
    /// Asterisk keeps a bounded digit buffer too; older digits are dropped first.
    static let capacity = 64

    mutating func push(_ digit: Character) {
        if let index = waiters.firstIndex(where: { $0.matching?.contains(digit) ?? true }) {
            let waiter = waiters.remove(at: index)
            waiter.done()
            waiter.promise.succeed(digit)
            return
        }
        pending.append(digit)
        if pending.count > Self.capacity { pending.removeFirst() }
    }

    mutating func take(matching: String?) -> Character? {
        guard let index = pending.firstIndex(where: { matching?.contains($0) ?? true }) else { return nil }
        return pending.remove(at: index)
    }

    mutating func addWaiter(_ promise: EventLoopPromise<Character?>, matching: String?, done: @escaping () -> Void) {
        waiters.append((promise, matching, done))
    }

    mutating func cancelWaiter(_ promise: EventLoopPromise<Character?>) {
        waiters.removeAll { $0.promise.futureResult === promise.futureResult }
    }
}

/// The media applications' side of the channel: Record, Echo, Milliwatt, MusicOnHold, SendDTMF.
extension SIPChannel {
    public func record(_ request: RecordingRequest) async -> RecordingOutcome {
        guard let endpoint = await localMediaEndpoint() else {
            return await isHungUp ? .hungUp : .error("no media to record (the call is not answered, or bridged)")
        }
        let sink: RecordingSink
        do {
            sink = try RecordingSink(path: request.path)
        } catch {
            logger.warning("cannot create recording", metadata: ["path": "\(request.path)", "error": "\(error)"])
            return .error("cannot create \(request.path): \(error)")
        }
        let outcome = eventLoop.makePromise(of: RecordingOutcome.self)
        let tap = RecordingTap(sink: sink, silenceMilliseconds: request.silence.map(Self.milliseconds)) {
            outcome.succeed(.silence)
        }
        guard await endpoint.setTap(tap) else {
            _ = try? await sink.finish()
            return .hungUp
        }
        let digitPromise = eventLoop.makePromise(of: Character?.self)
        eventLoop.execute {
            guard self.hangupCause == nil else { return outcome.succeed(.hungUp) }
            var timer: TimerWheel.Token?
            if let limit = request.maxDuration {
                timer = self.driver.timers.schedule(in: .milliseconds(Int64(Self.milliseconds(limit)))) {
                    outcome.succeed(.timeout)
                }
            }
            if !request.terminators.isEmpty {
                self.digits.addWaiter(digitPromise, matching: request.terminators) {}
                digitPromise.futureResult.whenSuccess { digit in
                    if let digit { outcome.succeed(.dtmf(digit)) }
                }
            }
            self.waitEnded.whenSuccess { outcome.succeed(.hungUp) }
            outcome.futureResult.whenComplete { _ in
                // Not inline: this can run from inside `digits.push` (a terminator arrived).
                self.eventLoop.execute {
                    if let timer { self.driver.timers.cancel(timer) }
                    self.digits.cancelWaiter(digitPromise)
                    digitPromise.succeed(nil)
                }
            }
        }
        var result = (try? await outcome.futureResult.get()) ?? .hungUp
        await endpoint.setTap(nil)  // hands the last samples to the writer
        // Ended by silence: keep one second of it, as Asterisk does.
        var trim = 0
        if result == .silence, let silence = request.silence {
            trim = max(0, Self.milliseconds(silence) - 1000) * 8
        }
        do {
            let samples = try await sink.finish(trimSamples: trim)
            logger.debug(
                "recording written",
                metadata: ["path": "\(request.path)", "samples": "\(samples)", "dropped": "\(sink.droppedChunks)"])
        } catch {
            logger.warning("recording failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            if result != .hungUp { result = .error("writing \(request.path): \(error)") }
        }
        return result
    }

    public func echo(until terminators: String) async -> Character? {
        guard let endpoint = await localMediaEndpoint(), await endpoint.startEcho() else { return nil }
        while true {
            if let digit = await receiveDigit(timeout: .seconds(3600), matching: terminators) {
                await endpoint.setTap(nil)
                return digit
            }
            if await isStopped {
                await endpoint.setTap(nil)
                return nil
            }
        }
    }

    public func playContinuous(_ sound: ContinuousSound, duration: Duration?) async -> ContinuousPlayResult {
        guard let endpoint = await localMediaEndpoint(), let codec = await playbackCodec() else { return .hungUp }
        guard let law = G711Law(codec: codec) else { return .failed("codec \(codec.name) is not G.711") }
        let player: RTPPlayer
        switch sound {
        case .tone(let frequency, let amplitude):
            player = await endpoint.play(ToneSource(frequency: frequency, amplitude: amplitude), codec: codec)
        case .music(let names, let random):
            guard let music = musicSource(names, random: random, codec: codec, law: law) else {
                return .failed("no playable music file")
            }
            player = await endpoint.play(music, codec: codec)
        }
        let musicClass = musicClassName(of: sound)
        if let musicClass { publishEvent { .musicOnHoldStart($0, musicClass: musicClass) } }
        let result = eventLoop.makePromise(of: ContinuousPlayResult.self)
        player.outcome.whenComplete { ended in
            if case .success(.finished) = ended {
                result.succeed(.failed("the \(sound) source ran out"))
            } else {
                result.succeed(.hungUp)  // stopped under us: detached or hung up
            }
        }
        eventLoop.execute {
            guard self.hangupCause == nil else { return result.succeed(.hungUp) }
            var timer: TimerWheel.Token?
            if let duration {
                timer = self.driver.timers.schedule(in: .milliseconds(Int64(Self.milliseconds(duration)))) {
                    result.succeed(.elapsed)
                }
            }
            self.waitEnded.whenSuccess { result.succeed(.hungUp) }
            result.futureResult.whenComplete { _ in if let timer { self.driver.timers.cancel(timer) } }
        }
        let outcome = (try? await result.futureResult.get()) ?? .hungUp
        await player.stop()
        if musicClass != nil { publishEvent { .musicOnHoldStop($0) } }
        return outcome
    }

    /// The files of a music class as one looping source in `codec`; nil when none is playable.
    func musicSource(_ names: [String], random: Bool, codec: Codec, law: G711Law) -> MusicSource? {
        let preferred = AudioFileFormat(channelCodec: codec) ?? .wav
        var frames: [FrameSource] = []
        for name in names {
            guard let file = driver.media.sounds.find(name, language: SoundLibrary.fallbackLanguage, preferring: preferred),
                let source = try? FrameSource(file, law: law)
            else {
                logger.warning("music on hold file not playable", metadata: ["file": "\(name)"])
                continue
            }
            frames.append(source)
        }
        return MusicSource(files: frames, order: random ? .random : .alphabetical)
    }

    /// The musiconhold.conf class whose files `sound` plays (`default` when none lists exactly
    /// those files); nil for a tone, which is not music on hold.
    private func musicClassName(of sound: ContinuousSound) -> String? {
        guard case .music(let files, _) = sound else { return nil }
        return driver.musicOnHold.classes.values.first { $0.files == files }?.name ?? "default"
    }

    public func sendDTMF(_ digits: String, duration: Duration, gap: Duration) async -> Bool {
        guard let endpoint = await localMediaEndpoint() else {
            if await isHungUp { return false }
            logger.warning(
                "SendDTMF: no media to send on (not answered, or bridged); digits not sent", metadata: ["digits": "\(digits)"])
            return true
        }
        guard let payloadType = (try? await eventLoop.submit({ self.media.telephoneEventPayloadType }).get()) ?? nil else {
            logger.warning(
                "SendDTMF: the phone did not negotiate telephone-event; digits not sent", metadata: ["digits": "\(digits)"])
            return !(await isHungUp)
        }
        var first = true
        for character in digits {
            switch character {
            case "w":
                if await waitForHangup(timeout: .milliseconds(500)) { return false }
                continue
            case "W":
                if await waitForHangup(timeout: .seconds(1)) { return false }
                continue
            default:
                break
            }
            guard let digit = DTMFDigit(character) else {
                logger.warning("SendDTMF: ignoring invalid digit", metadata: ["digit": "\(character)"])
                continue
            }
            if !first, await waitForHangup(timeout: gap) { return false }
            first = false
            publishEvent { .dtmfBegin($0, digit: digit.character, direction: .sent) }
            let sent = await endpoint.sendDTMF(digit, payloadType: payloadType, duration: duration) == .finished
            let milliseconds = Self.milliseconds(duration)
            publishEvent { .dtmfEnd($0, digit: digit.character, durationMs: milliseconds, direction: .sent) }
            guard sent else { return false }
        }
        return !(await isHungUp)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, atto) = duration.components
        return Int(seconds) * 1000 + Int(atto / 1_000_000_000_000_000)
    }
}
