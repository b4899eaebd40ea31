import Foundation
import Logging
import PBXCore
import RTPMedia
@testable import Dialplan
@testable import IVR

/// What the fake channel saw, in order.
enum IVREvent: Equatable, CustomStringConvertible {
    case answer
    case hangup(HangupCause)
    case play([String], language: String, interruptDigits: String)
    /// A `receiveDigit` call and its timeout.
    case receive(Duration)
    /// `TestProbe(text)`: lets a test see variables at a point of the dialplan.
    case probe(String)
    /// `startTones` with the plan as written (`TonePlan.description`), and whether it started.
    case tones(String, started: Bool)
    case stopTones
    case record(RecordingRequest)
    case echo(terminators: String)
    case continuous(ContinuousSound, Duration?)
    case sendDTMF(String, duration: Duration, gap: Duration)
    case mixMonitor(MixMonitorRequest)

    var description: String {
        switch self {
        case .answer: "answer"
        case .hangup(let cause): "hangup(\(cause.rawValue))"
        case .play(let prompts, let language, let digits): "play(\(prompts.joined(separator: "&")),\(language),\(digits))"
        case .receive(let timeout): "receive(\(timeout))"
        case .probe(let text): "probe(\(text))"
        case .tones(let plan, let started): "tones(\(plan),\(started))"
        case .stopTones: "stopTones"
        case .record(let request): "record(\(request))"
        case .echo(let terminators): "echo(\(terminators))"
        case .continuous(let sound, let duration): "continuous(\(sound),\(String(describing: duration)))"
        case .sendDTMF(let digits, let duration, let gap): "sendDTMF(\(digits),\(duration),\(gap))"
        case .mixMonitor(let request): "mixMonitor(\(request.path))"
        }
    }
}

/// An in-process `CallChannel` with a scripted caller (the same approach as DialplanTests'
/// FakeChannel, with the extras IVR tests need: prompt results, timeouts, language).
///
/// The script given to `press` is a queue of characters:
/// - a DTMF digit: pressed now; a playback whose interrupt digits contain it stops on it,
///   otherwise the next `receiveDigit` returns it;
/// - `_`: the next `receiveDigit` times out here;
/// - `|`: the digits after it are pressed only once the current playback has finished.
actor IVRFakeChannel: CallChannel {
    nonisolated let name = "SIP/1001-00000001"
    nonisolated let uniqueID = "1732200000.1"
    nonisolated let linkedID = "1732200000.1"
    var callerIDNumber = "1001"
    var callerIDName = "Alice"
    private(set) var state: ChannelState
    private(set) var events: [IVREvent] = []
    private(set) var isHungUp = false
    private var script: [Character] = []
    /// Prompts that exist in no sound directory.
    private let missing: Set<String>
    /// The caller hangs up when a `receiveDigit` finds the script empty.
    private let hangUpWhenScriptEnds: Bool

    private(set) var location: (context: String, exten: String, priority: Int) = ("", "", 1)
    var snapshot: ChannelSnapshot {
        ChannelSnapshot(name: name, state: state, callerIDNumber: callerIDNumber, callerIDName: callerIDName,
                        context: location.context, exten: location.exten, priority: location.priority,
                        uniqueID: uniqueID, linkedID: linkedID)
    }
    func setDialplanLocation(context: String, exten: String, priority: Int) { location = (context, exten, priority) }

    init(state: ChannelState = .ring, missing: Set<String> = [], hangUpWhenScriptEnds: Bool = false) {
        self.state = state
        self.missing = missing
        self.hangUpWhenScriptEnds = hangUpWhenScriptEnds
    }

    func press(_ script: String) { self.script.append(contentsOf: script) }

    /// Headers of the "INVITE" that created this fake channel, by lowercased name.
    var requestHeaders: [String: [String]] = [:]

    func setRequestHeader(_ name: String, _ values: [String]) { requestHeaders[name.lowercased()] = values }

    func requestHeader(_ name: String, occurrence: Int) async -> String? {
        let values = requestHeaders[name.lowercased()] ?? []
        return values.indices.contains(occurrence - 1) ? values[occurrence - 1] : nil
    }

    func setCallerID(number: String, name: String) async {
        callerIDNumber = number
        callerIDName = name
    }

    func answer() async throws {
        events.append(.answer)
        state = .up
    }

    func indicate(_ indication: ChannelIndication) async {}

    func hangup(cause: HangupCause) async {
        events.append(.hangup(cause))
        isHungUp = true
        state = .down
    }

    func waitForHangup(timeout: Duration) async -> Bool { isHungUp }

    func play(_ prompts: [String], language: String, interruptDigits: String) async -> PlaybackResult {
        events.append(.play(prompts, language: language, interruptDigits: interruptDigits))
        if isHungUp { return .hungUp }
        if let first = script.first, interruptDigits.contains(first) {
            script.removeFirst()
            return .interrupted(digit: first)
        }
        if let absent = prompts.first(where: missing.contains) { return .missing(prompt: absent) }
        if script.first == "|" { script.removeFirst() }
        return .finished
    }

    func receiveDigit(timeout: Duration) async -> Character? {
        events.append(.receive(timeout))
        if isHungUp { return nil }
        guard let next = script.first else {
            if hangUpWhenScriptEnds { isHungUp = true }
            return nil
        }
        if next == "|" { return nil }
        script.removeFirst()
        return next == "_" ? nil : next
    }

    /// Tones start only on an answered channel (the SIP channel needs media), as for real.
    func startTones(_ plan: TonePlan) async -> Bool {
        let started = state == .up && !isHungUp
        events.append(.tones(plan.description, started: started))
        return started
    }

    func stopTones() async { events.append(.stopTones) }

    func record(_ event: IVREvent) { events.append(event) }

    // Media applications.

    /// How the next `record` ends (default: silence); the fake writes a 44-byte file at the path.
    private var recordingOutcome: RecordingOutcome = .silence
    func willRecord(_ outcome: RecordingOutcome) { recordingOutcome = outcome }

    func record(_ request: RecordingRequest) async -> RecordingOutcome {
        events.append(.record(request))
        if isHungUp { return .hungUp }
        FileManager.default.createFile(atPath: request.path, contents: Data(repeating: 0, count: 44))
        if recordingOutcome == .hungUp { isHungUp = true }
        return recordingOutcome
    }

    /// Ends on the script's next digit when it is a terminator; otherwise the caller hangs up.
    func echo(until terminators: String) async -> Character? {
        events.append(.echo(terminators: terminators))
        if let next = script.first, terminators.contains(next) {
            script.removeFirst()
            return next
        }
        isHungUp = true
        return nil
    }

    /// With a duration it elapses; without, the caller hangs up.
    func playContinuous(_ sound: ContinuousSound, duration: Duration?) async -> ContinuousPlayResult {
        events.append(.continuous(sound, duration))
        if isHungUp { return .hungUp }
        if duration == nil {
            isHungUp = true
            return .hungUp
        }
        return .elapsed
    }

    func sendDTMF(_ digits: String, duration: Duration, gap: Duration) async -> Bool {
        events.append(.sendDTMF(digits, duration: duration, gap: gap))
        return !isHungUp
    }
}

/// Dial() isn't used by these tests; any attempt fails as unavailable.
struct UnusedDialer: CallDialer {

    func place(_ target: CallTarget, for caller: (any CallChannel)?, options: PlaceOptions) async -> Result<PlacedCall, PlaceFailure> {
        .failure(PlaceFailure(cause: .unallocated, description: "this test places no calls"))
    }
    func bridge(_ caller: any CallChannel, with callee: any CallChannel) async -> BridgeEnd { .refused("this test bridges nothing") }

    func dial(from caller: any CallChannel, request: DialRequest) async -> DialResult {
        DialResult(status: .chanUnavail)
    }
}

/// Warnings and notices from the run, to check that failures are reported.
final class IVRLog: @unchecked Sendable {
    // @unchecked: `lines` is only touched under `lock`.
    private let lock = NSLock()
    private var lines: [(Logger.Level, String)] = []

    func append(_ level: Logger.Level, _ message: String) { lock.withLock { lines.append((level, message)) } }
    func messages(atLeast level: Logger.Level) -> [String] { lock.withLock { lines.filter { $0.0 >= level }.map(\.1) } }

    var logger: Logger { Logger(label: "ivr-test") { _ in Handler(log: self) } }

    struct Handler: LogHandler {
        let log: IVRLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { log.append(event.level, "\(event.message)") }
    }
}

/// `TestProbe(text)` records its substituted argument on the fake channel.
let testProbe = Application(name: "TestProbe", isInstant: true) { execution, data in
    await (execution.channel as? IVRFakeChannel)?.record(.probe(data))
    return .proceed
}

/// Runs `channel` through `text` from `exten@default` with the IVR applications registered as
/// pbxd registers them, and returns what the channel saw.
func runIVR(_ text: String, exten: String = "s", channel: IVRFakeChannel = IVRFakeChannel(),
            log: IVRLog = IVRLog(), settings: MediaApplicationSettings? = nil,
            extra: [Application] = []) async throws -> [IVREvent] {
    var applications = ApplicationRegistry.standard
    if let settings {
        IVRApplications.register(into: &applications, settings: settings)
    } else {
        IVRApplications.register(into: &applications)
    }
    applications.register(testProbe)
    for application in extra { applications.register(application) }
    var functions = FunctionRegistry.standard
    IVRApplications.register(into: &functions)
    let dialplan = try Dialplan.parse(text, fileName: "extensions.conf").dialplan
    let executor = DialplanExecutor(dialplan: dialplan, dialer: UnusedDialer(), applications: applications,
                                    functions: functions, logger: log.logger)
    await executor.run(channel: channel, context: "default", exten: exten)
    return await channel.events
}

/// The probes among `events`, in order.
func probes(_ events: [IVREvent]) -> [String] {
    events.compactMap { if case .probe(let text) = $0 { text } else { nil } }
}

/// The prompt lists played, in order.
func played(_ events: [IVREvent]) -> [[String]] {
    events.compactMap { if case .play(let prompts, _, _) = $0 { prompts } else { nil } }
}

/// The timeouts `receiveDigit` was called with, in order.
func receiveTimeouts(_ events: [IVREvent]) -> [Duration] {
    events.compactMap { if case .receive(let timeout) = $0 { timeout } else { nil } }
}
