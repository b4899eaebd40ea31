import Foundation
import Logging
import PBXCore
import RTPMedia
@testable import Dialplan

/// Everything a fake channel saw, in order, so tests can assert whole call sequences.
enum ChannelEvent: Equatable, CustomStringConvertible {
    case answer
    case indicate(ChannelIndication)
    case wait(Duration)
    case dial([String], timeout: Duration?, options: String)
    case setCallerID(number: String, name: String)
    case hangup(HangupCause)
    case play([String], interruptDigits: String)
    /// `startTones` with the plan as written (`TonePlan.description`); `stopTones`.
    case tones(String)
    case stopTones

    var description: String {
        switch self {
        case .answer: "answer"
        case .tones(let plan): "tones(\(plan))"
        case .stopTones: "stopTones"
        case .indicate(let what): "indicate(\(what))"
        case .wait(let duration): "wait(\(duration))"
        case .dial(let targets, let timeout, let options): "dial(\(targets.joined(separator: "&")),\(timeout.map { "\($0)" } ?? "-"),\(options))"
        case .setCallerID(let number, let name): "callerID(\(number),\(name))"
        case .hangup(let cause): "hangup(\(cause.rawValue))"
        case .play(let prompts, let digits): "play(\(prompts.joined(separator: "&")),\(digits))"
        }
    }
}

/// An in-process `CallChannel`: records what the dialplan does and can be told to hang up
/// from the far end during its Nth wait.
actor FakeChannel: CallChannel {
    nonisolated let name: String
    nonisolated let uniqueID: String
    nonisolated let linkedID: String
    private(set) var callerIDNumber: String
    private(set) var callerIDName: String
    private(set) var state: ChannelState = .ring
    private(set) var events: [ChannelEvent] = []
    private(set) var isHungUp = false
    /// The far end hangs up during this wait (1-based), if set.
    private let remoteHangupOnWait: Int?
    private var waits = 0

    init(name: String = "SIP/1001-00000001", uniqueID: String = "1732200000.1", callerIDNumber: String = "1001",
         callerIDName: String = "Alice", remoteHangupOnWait: Int? = nil) {
        self.name = name
        self.uniqueID = uniqueID
        self.linkedID = uniqueID
        self.callerIDNumber = callerIDNumber
        self.callerIDName = callerIDName
        self.remoteHangupOnWait = remoteHangupOnWait
    }

    private(set) var location: (context: String, exten: String, priority: Int) = ("", "", 1)
    var snapshot: ChannelSnapshot {
        ChannelSnapshot(name: name, state: state, callerIDNumber: callerIDNumber, callerIDName: callerIDName,
                        context: location.context, exten: location.exten, priority: location.priority,
                        uniqueID: uniqueID, linkedID: linkedID)
    }
    func setDialplanLocation(context: String, exten: String, priority: Int) { location = (context, exten, priority) }

    func answer() async throws {
        events.append(.answer)
        state = .up
    }

    func indicate(_ indication: ChannelIndication) async {
        events.append(.indicate(indication))
    }

    func hangup(cause: HangupCause) async {
        events.append(.hangup(cause))
        isHungUp = true
        state = .down
    }

    func waitForHangup(timeout: Duration) async -> Bool {
        events.append(.wait(timeout))
        waits += 1
        if isHungUp { return true }
        if waits == remoteHangupOnWait {
            isHungUp = true
            return true
        }
        return false
    }

    /// Headers of the "INVITE" that created this fake channel, by lowercased name.
    var requestHeaders: [String: [String]] = [:]

    func setRequestHeader(_ name: String, _ values: [String]) { requestHeaders[name.lowercased()] = values }

    func requestHeader(_ name: String, occurrence: Int) async -> String? {
        let values = requestHeaders[name.lowercased()] ?? []
        return values.indices.contains(occurrence - 1) ? values[occurrence - 1] : nil
    }

    func setCallerID(number: String, name: String) async {
        events.append(.setCallerID(number: number, name: name))
        callerIDNumber = number
        callerIDName = name
    }

    /// Digits the caller "presses": consumed by `play` (when interruptible) and `receiveDigit`.
    fileprivate var pressedDigits: [Character] = []

    func press(_ digits: String) { pressedDigits.append(contentsOf: digits) }

    func play(_ prompts: [String], language: String, interruptDigits: String) async -> PlaybackResult {
        events.append(.play(prompts, interruptDigits: interruptDigits))
        if isHungUp { return .hungUp }
        if let index = pressedDigits.firstIndex(where: { interruptDigits.contains($0) }) {
            return .interrupted(digit: pressedDigits.remove(at: index))
        }
        return .finished
    }

    func receiveDigit(timeout: Duration) async -> Character? {
        if isHungUp || pressedDigits.isEmpty { return nil }
        return pressedDigits.removeFirst()
    }

    func startTones(_ plan: TonePlan) async -> Bool {
        events.append(.tones(plan.description))
        return state == .up && !isHungUp
    }

    func stopTones() async { events.append(.stopTones) }

    func record(_ event: ChannelEvent) { events.append(event) }
    func remoteHangup() { isHungUp = true }
}

/// An in-process `CallDialer`: answers each Dial() with the next scripted result, recording
/// the request on the caller's fake channel.
final class FakeDialer: CallDialer, @unchecked Sendable {
    // @unchecked: `results` and `requests` are only touched under `lock`.
    private let lock = NSLock()
    private var results: [DialResult]
    private var requests: [DialRequest] = []
    /// The caller hangs up while the dial is in progress (a CANCEL), if set.
    private let callerHangsUp: Bool

    init(results: [DialResult] = [], callerHangsUp: Bool = false) {
        self.results = results
        self.callerHangsUp = callerHangsUp
    }

    var recordedRequests: [DialRequest] { lock.withLock { requests } }


    func place(_ target: CallTarget, for caller: (any CallChannel)?, options: PlaceOptions) async -> Result<PlacedCall, PlaceFailure> {
        .failure(PlaceFailure(cause: .unallocated, description: "this test places no calls"))
    }
    func bridge(_ caller: any CallChannel, with callee: any CallChannel) async -> BridgeEnd { .refused("this test bridges nothing") }

    func dial(from caller: any CallChannel, request: DialRequest) async -> DialResult {
        let result = lock.withLock { () -> DialResult in
            requests.append(request)
            return results.isEmpty ? DialResult(status: .chanUnavail) : results.removeFirst()
        }
        if let fake = caller as? FakeChannel {
            await fake.record(.dial(request.targets.map { "\($0.technology)/\($0.resource)" }, timeout: request.timeout, options: request.options))
            if callerHangsUp { await fake.remoteHangup() }
        }
        return result
    }
}

/// Log lines captured from the executor, to check that failures say where they happened.
final class LogCapture: @unchecked Sendable {
    // @unchecked: `lines` is only touched under `lock`.
    private let lock = NSLock()
    private var lines: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] = []

    var messages: [String] { lock.withLock { lines.map(\.message) } }
    var all: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] { lock.withLock { lines } }
    func append(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        lock.withLock { lines.append((level, message, metadata)) }
    }

    var logger: Logger {
        Logger(label: "test") { _ in CaptureHandler(capture: self) }
    }

    struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.append(event.level, "\(event.message)", metadata.merging(event.metadata ?? [:]) { $1 })
        }
    }
}

/// Loads dialplan text, failing the test on a config error.
func loadDialplan(_ text: String) throws -> Dialplan {
    try Dialplan.parse(text, fileName: "extensions.conf").dialplan
}

/// Runs one call through `text` from `exten@context` and returns what the channel saw.
func runCall(
    _ text: String, context: String = "default", exten: String, channel: FakeChannel = FakeChannel(),
    dialer: FakeDialer = FakeDialer(), log: LogCapture = LogCapture(), maxInstant: Int = 10_000,
    at time: Date = utcDate(2026, 11, 23, 10, 0)
) async throws -> [ChannelEvent] {
    let executor = DialplanExecutor(dialplan: try loadDialplan(text), dialer: dialer, logger: log.logger,
                                    maxInstantPriorities: maxInstant, clock: { time },
                                    timeZone: TimeZone(identifier: "UTC")!)
    await executor.run(channel: channel, context: context, exten: exten)
    return await channel.events
}

/// A fixed instant for time conditions (2026-11-23 is a Monday).
func utcDate(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
}

/// The media applications' channel methods: the dialplan tests don't run those applications;
/// these answer as a silent caller would (nothing pressed: silence, and hangup ends the rest).
extension FakeChannel {
    func record(_ request: RecordingRequest) async -> RecordingOutcome { isHungUp ? .hungUp : .silence }
    func echo(until terminators: String) async -> Character? {
        if let index = pressedDigits.firstIndex(where: { terminators.contains($0) }) { return pressedDigits.remove(at: index) }
        return nil
    }
    func playContinuous(_ sound: ContinuousSound, duration: Duration?) async -> ContinuousPlayResult {
        duration == nil || isHungUp ? .hungUp : .elapsed
    }
    func sendDTMF(_ digits: String, duration: Duration, gap: Duration) async -> Bool { !isHungUp }
}
