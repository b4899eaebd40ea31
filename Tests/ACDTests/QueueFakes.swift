import Foundation
import PBXCore
import RTPMedia
@testable import ACD

/// Everything the parties of a fake queue call did, in one order.
actor CallLog {
    private(set) var lines: [String] = []
    func add(_ line: String) { lines.append(line) }
}

/// A channel for Queue() tests: a caller or a member leg. Playbacks take 20 ms per prompt;
/// hold music lasts until its duration, the next playback (which stops it, as on a real
/// channel) or the hangup.
actor FakeQueueChannel: CallChannel {
    nonisolated let name: String
    nonisolated let uniqueID: String
    nonisolated let linkedID: String
    let log: CallLog
    private let label: String
    private(set) var state: ChannelState = .up
    private(set) var isHungUp = false
    private var generation = 0
    private var digits: [Character] = []
    var callerIDNumber: String { "5550100" }
    var callerIDName: String { "" }

    init(name: String, uniqueID: String, label: String, log: CallLog) {
        self.name = name
        self.uniqueID = uniqueID
        self.linkedID = uniqueID
        self.label = label
        self.log = log
    }

    var snapshot: ChannelSnapshot {
        ChannelSnapshot(name: name, state: state, callerIDNumber: "5550100", uniqueID: uniqueID, linkedID: linkedID)
    }

    func press(_ digit: Character) { digits.append(digit) }

    func setDialplanLocation(context: String, exten: String, priority: Int) {}
    func setCallerID(number: String, name: String) {}
    func requestHeader(_ name: String, occurrence: Int) -> String? { nil }
    func answer() async throws { state = .up }
    func indicate(_ indication: ChannelIndication) {}

    func hangup(cause: HangupCause) async {
        guard !isHungUp else { return }
        isHungUp = true
        await log.add("\(label): hangup")
    }

    func waitForHangup(timeout: Duration) async -> Bool {
        let end = ContinuousClock.now + timeout
        while !isHungUp, ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(5)) }
        return isHungUp
    }

    func play(_ prompts: [String], language: String, interruptDigits: String) async -> PlaybackResult {
        generation += 1
        let mine = generation
        await log.add("\(label): play \(prompts.joined(separator: " "))")
        try? await Task.sleep(for: .milliseconds(20 * prompts.count))
        if isHungUp { return .hungUp }
        return generation == mine ? .finished : .hungUp
    }

    func receiveDigit(timeout: Duration) async -> Character? {
        let end = ContinuousClock.now + timeout
        while digits.isEmpty, !isHungUp, ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(5)) }
        return digits.isEmpty ? nil : digits.removeFirst()
    }

    func startTones(_ plan: TonePlan) async -> Bool {
        generation += 1
        if plan != HoldSound.quiet { await log.add("\(label): tones") }
        return !isHungUp
    }

    func stopTones() async {}

    func playContinuous(_ sound: ContinuousSound, duration: Duration?) async -> ContinuousPlayResult {
        generation += 1
        let mine = generation
        await log.add("\(label): moh")
        let end = duration.map { ContinuousClock.now + $0 }
        while !isHungUp, generation == mine {
            if let end, ContinuousClock.now >= end { return .elapsed }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return .hungUp
    }

    func record(_ request: RecordingRequest) async -> RecordingOutcome { .hungUp }
    func echo(until terminators: String) async -> Character? { nil }
    func sendDTMF(_ digits: String, duration: Duration, gap: Duration) async -> Bool { true }
}

/// What a fake member does when rung.
enum MemberBehaviour: Sendable {
    case answer(after: Duration)
    /// Rings until the queue's member timeout.
    case noAnswer
    /// Can't be called at all (unregistered).
    case unavailable
    /// Answers, then hangs up after `hangUp` (before the bridge when that is short).
    case answerThenHangUp(after: Duration, hangUp: Duration)
}

/// Places calls to scripted members and "bridges" them: the bridge lasts until either side
/// hangs up. The caller hangs up `talk` after the bridge starts, unless `agentHangsUp`.
struct FakeQueueDialer: CallDialer {
    var log: CallLog
    var members: [String: MemberBehaviour]
    var talk: Duration = .milliseconds(100)
    var agentHangsUp = false

    func dial(from caller: any CallChannel, request: DialRequest) async -> DialResult { DialResult(status: .chanUnavail) }

    func place(_ target: CallTarget, for caller: (any CallChannel)?, options: PlaceOptions) async -> Result<PlacedCall, PlaceFailure> {
        let interface = target.description
        let behaviour = members[interface] ?? .unavailable
        if case .unavailable = behaviour {
            await log.add("\(interface): unavailable")
            return .failure(PlaceFailure(cause: .subscriberAbsent, description: "not registered"))
        }
        let leg = FakeQueueChannel(name: "\(interface)-00000001", uniqueID: "leg.\(interface)", label: interface, log: log)
        await log.add("\(interface): ringing")
        let (progress, continuation) = AsyncStream<CallProgress>.makeStream()
        let timeout = options.timeout ?? .seconds(60)
        Task {
            continuation.yield(.ringing)
            let answerAfter: Duration?
            switch behaviour {
            case .answer(let after), .answerThenHangUp(let after, _): answerAfter = after
            default: answerAfter = nil
            }
            let deadline = ContinuousClock.now + (answerAfter.map { min($0, timeout) } ?? timeout)
            while ContinuousClock.now < deadline, !(await leg.isHungUp) { try? await Task.sleep(for: .milliseconds(5)) }
            if await leg.isHungUp {
                continuation.yield(.failed(.normalClearing))
            } else if let answerAfter, answerAfter <= timeout {
                await log.add("\(interface): answered")
                continuation.yield(.answered)
                if case .answerThenHangUp(_, let hangUp) = behaviour {
                    Task {
                        try? await Task.sleep(for: hangUp)
                        await leg.hangup(cause: .normalClearing)
                    }
                }
            } else {
                await leg.hangup(cause: .noAnswer)
                continuation.yield(.failed(.noAnswer))
            }
            continuation.finish()
        }
        return .success(PlacedCall(channel: leg, progress: progress))
    }

    func bridge(_ caller: any CallChannel, with callee: any CallChannel, features: BridgeFeatures) async -> BridgeEnd {
        if !features.isEmpty {
            await log.add("features caller \(features.caller.map(\.rawValue).sorted()) callee \(features.callee.map(\.rawValue).sorted())")
        }
        return await bridge(caller, with: callee)
    }

    func bridge(_ caller: any CallChannel, with callee: any CallChannel) async -> BridgeEnd {
        await log.add("bridge \(caller.name) with \(callee.name)")
        Task {
            try? await Task.sleep(for: talk)
            if agentHangsUp { await callee.hangup(cause: .normalClearing) } else { await caller.hangup(cause: .normalClearing) }
        }
        while true {
            if await caller.isHungUp { return .callerHungUp(.normalClearing) }
            if await callee.isHungUp { return .calleeHungUp(.normalClearing) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
