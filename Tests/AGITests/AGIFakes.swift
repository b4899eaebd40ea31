import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import PBXCore
import RTPMedia
@testable import AGI
@testable import Dialplan

/// A channel with a scripted caller: `press` queues digits that interrupt a playback whose
/// interrupt digits contain them, or are returned by `receiveDigit`; playing a prompt in
/// `hangUpDuring` hangs the caller up mid-prompt.
actor AGIFakeChannel: CallChannel {
    nonisolated let name = "SIP/1001-0000000c"
    nonisolated let uniqueID = "1795306812.12"
    nonisolated let linkedID = "1795306812.12"
    var callerIDNumber = "1001"
    var callerIDName = "User 1001"
    private(set) var state: ChannelState = .ring
    private(set) var isHungUp = false
    private(set) var played: [[String]] = []
    private(set) var recorded: [RecordingRequest] = []
    private var digits: [Character] = []
    private let hangUpDuring: Set<String>
    private var location: (context: String, exten: String, priority: Int) = ("", "", 1)

    init(hangUpDuring: Set<String> = []) {
        self.hangUpDuring = hangUpDuring
    }

    func press(_ text: String) { digits.append(contentsOf: text) }

    var snapshot: ChannelSnapshot {
        ChannelSnapshot(name: name, state: state, callerIDNumber: callerIDNumber, callerIDName: callerIDName,
                        context: location.context, exten: location.exten, priority: location.priority,
                        uniqueID: uniqueID, linkedID: linkedID)
    }
    func setDialplanLocation(context: String, exten: String, priority: Int) { location = (context, exten, priority) }
    func setCallerID(number: String, name: String) { callerIDNumber = number; callerIDName = name }
    func requestHeader(_ name: String, occurrence: Int) -> String? {
        name.lowercased() == "to" && occurrence == 1 ? "<sip:520@127.0.0.1:5070>" : nil
    }
    func answer() async throws { state = .up }
    func indicate(_ indication: ChannelIndication) {}
    func hangup(cause: HangupCause) { isHungUp = true }

    /// The caller hangs up `delay` from now (while the script is between commands).
    nonisolated func hangUp(after delay: Duration) {
        Task {
            try? await Task.sleep(for: delay)
            await hangup(cause: .normalClearing)
        }
    }

    func waitForHangup(timeout: Duration) async -> Bool {
        if isHungUp { return true }
        try? await Task.sleep(for: min(timeout, .milliseconds(5)))
        return isHungUp
    }

    func play(_ prompts: [String], language: String, interruptDigits: String) async -> PlaybackResult {
        played.append(prompts)
        if isHungUp { return .hungUp }
        if prompts.contains(where: hangUpDuring.contains) {
            try? await Task.sleep(for: .milliseconds(50))
            isHungUp = true
            return .hungUp
        }
        if let first = digits.first, interruptDigits.contains(first) {
            digits.removeFirst()
            return .interrupted(digit: first)
        }
        return prompts.contains("no-such-prompt") ? .missing(prompt: "no-such-prompt") : .finished
    }

    func receiveDigit(timeout: Duration) -> Character? {
        guard !isHungUp, !digits.isEmpty else { return nil }
        return digits.removeFirst()
    }

    func startTones(_ plan: TonePlan) -> Bool { false }
    func stopTones() {}

    func record(_ request: RecordingRequest) -> RecordingOutcome {
        recorded.append(request)
        // 0.5 s of 8 kHz samples after the header.
        FileManager.default.createFile(atPath: request.path, contents: Data(repeating: 0, count: 44 + 8000))
        if let digit = digits.first, request.terminators.contains(digit) {
            digits.removeFirst()
            return .dtmf(digit)
        }
        return .timeout
    }

    func echo(until terminators: String) -> Character? { nil }
    func playContinuous(_ sound: ContinuousSound, duration: Duration?) -> ContinuousPlayResult { .elapsed }
    func sendDTMF(_ digits: String, duration: Duration, gap: Duration) -> Bool { true }
}

/// The script's side of a session: the command lines it sends (all at once, then it closes its
/// end — unless `closeWhen` names a text pbxd must send first, e.g. `"HANGUP\n"`, answered with
/// `thenSend`) and everything pbxd sent back.
final class ScriptedTransport: AGITransport {
    let lines: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let sent = NIOLockedValueBox("")
    private let closeWhen: String?
    private let thenSend: [String]

    init(_ commands: [String], closeWhen: String? = nil, thenSend: [String] = []) {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        for command in commands { continuation.yield(command) }
        if closeWhen == nil { continuation.finish() }
        lines = stream
        self.continuation = continuation
        self.closeWhen = closeWhen
        self.thenSend = thenSend
    }

    func send(_ text: String) async throws {
        sent.withLockedValue { $0 += text }
        if text == closeWhen {
            for line in thenSend { continuation.yield(line) }
            continuation.finish()
        }
    }

    func close() async {}

    /// What pbxd sent, environment block included.
    var received: String { sent.withLockedValue { $0 } }

    /// What pbxd sent after the environment block (which ends at the first empty line).
    var replies: [String] {
        let text = received
        guard let end = text.range(of: "\n\n") else { return [] }
        return text[end.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}

/// The repository's prompts (beep.wav is 2000 samples).
let repositorySounds = SoundLibrary(
    searchPath: [URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("sounds").path])

func testSettings(events: EventBus? = nil, agiDirectory: String = "/nonexistent") -> AGISettings {
    AGISettings(
        group: MultiThreadedEventLoopGroup.singleton, agiDirectory: agiDirectory,
        recordingsDirectory: NSTemporaryDirectory() + "agi-tests-\(UUID().uuidString)", sounds: repositorySounds,
        version: "0.1.0", events: events)
}

/// Dial() is never used here.
struct NoDialer: CallDialer {
    func place(_ target: CallTarget, for caller: (any CallChannel)?, options: PlaceOptions) async -> Result<PlacedCall, PlaceFailure> {
        .failure(PlaceFailure(cause: .unallocated, description: "AGI tests place no calls"))
    }
    func bridge(_ caller: any CallChannel, with callee: any CallChannel) async -> BridgeEnd { .refused("AGI tests bridge nothing") }
    func dial(from caller: any CallChannel, request: DialRequest) async -> DialResult { DialResult(status: .chanUnavail) }
}

/// What a test run saw.
struct AGIRun {
    var outcome: AGISession.Outcome
    /// `Probe(...)` arguments, in order.
    var probes: [String]
}

/// Runs `text` from `s@default`, where `TestAGI()` runs a session of `transport`'s commands and
/// `Probe(x)` records its substituted argument.
func runAGI(_ text: String, transport: ScriptedTransport, channel: AGIFakeChannel, settings: AGISettings = testSettings(),
            astDB: any AstDB = InMemoryAstDB()) async throws -> AGIRun {
    let outcome = NIOLockedValueBox(AGISession.Outcome(hungUp: false))
    let probes = NIOLockedValueBox([String]())
    var applications = ApplicationRegistry.standard
    applications.register(Application(name: "TestAGI") { execution, _ in
        let context = AGICommandContext(execution: execution, settings: settings)
        let session = AGISession(transport: transport, context: context, commands: .standard) {
            try? await transport.send("HANGUP\n")
        }
        let request = AGIEnvironment.Request(request: "agi://127.0.0.1/test", networkScript: "test", arguments: [], version: "0.1.0")
        let result = await session.run(environment: await AGIEnvironment.block(request, execution: execution))
        outcome.withLockedValue { $0 = result }
        if result.hungUp { return .hangup(nil) }
        try await context.applyContinuation()
        return .proceed
    })
    applications.register(AGIApplication.application(settings: settings))
    applications.register(Application(name: "Probe", isInstant: true) { _, data in
        probes.withLockedValue { $0.append(data) }
        return .proceed
    })
    let dialplan = try Dialplan.parse(text, fileName: "extensions.conf").dialplan
    let executor = DialplanExecutor(dialplan: dialplan, dialer: NoDialer(), applications: applications, astDB: astDB,
                                    logger: Logger(label: "agi-test"))
    await executor.run(channel: channel, context: "default", exten: "s")
    return AGIRun(outcome: outcome.withLockedValue { $0 }, probes: probes.withLockedValue { $0 })
}
