import Dialplan
import Foundation
import PBXCore
import Testing
@testable import IVR

/// A temporary recordings directory and a music class of two files.
func mediaSettings() -> MediaApplicationSettings {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pbxd-ivr-\(UUID().uuidString)").path
    let moh = MusicOnHoldConfig(classes: [
        "default": .init(name: "default", directory: "/moh", files: ["/moh/a", "/moh/b"], random: false),
        "shuffle": .init(name: "shuffle", directory: "/moh2", files: ["/moh2/x"], random: true),
    ])
    return MediaApplicationSettings(recordingsDirectory: dir, musicOnHold: moh)
}

func recordings(_ events: [IVREvent]) -> [RecordingRequest] {
    events.compactMap { if case .record(let request) = $0 { request } else { nil } }
}

@Suite struct RecordApplicationTests {
    /// A relative name goes under the recordings directory; `%d` skips numbers already taken;
    /// the beep comes first; silence and maxduration are seconds; `#` ends it by default.
    @Test func relativeNameBeepAndStatus() async throws {
        let settings = mediaSettings()
        let taken = settings.recordingsDirectory + "/msgs/m-0.wav"
        try FileManager.default.createDirectory(atPath: settings.recordingsDirectory + "/msgs", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: taken, contents: Data())
        let events = try await runIVR(
            """
            [default]
            exten => s,1,Record(msgs/m-%d.wav,3,20)
             same => n,TestProbe(${RECORDED_FILE}|${RECORD_STATUS})
            """, settings: settings)
        let base = settings.recordingsDirectory + "/msgs/m-1"
        #expect(events.first == .answer)
        #expect(played(events) == [["beep"]])
        #expect(
            recordings(events) == [
                RecordingRequest(path: base + ".wav", silence: .seconds(3), maxDuration: .seconds(20), terminators: "#")
            ])
        #expect(probes(events) == ["\(base)|SILENCE"])
        #expect(FileManager.default.fileExists(atPath: base + ".wav"))
    }

    /// `q`: no beep; `y`: any digit ends it (DTMF); `t`: `*` instead of `#`; `x`: no digit;
    /// no silence/maxduration (or 0): none.
    @Test func options() async throws {
        let settings = mediaSettings()
        let channel = IVRFakeChannel(state: .up)
        await channel.willRecord(.dtmf("5"))
        let events = try await runIVR(
            """
            [default]
            exten => s,1,Record(/tmp/pbxd-ivr-abs-\(UUID().uuidString).wav,0,,qy)
             same => n,TestProbe(${RECORD_STATUS})
             same => n,Record(a.wav,,,tq)
             same => n,Record(b.wav,,,xq)
            """, channel: channel, settings: settings)
        #expect(played(events).isEmpty)
        #expect(!events.contains(.answer))
        let requests = recordings(events)
        #expect(requests.map(\.terminators) == ["0123456789*#ABCD", "*", ""])
        #expect(requests.allSatisfy { $0.silence == nil && $0.maxDuration == nil })
        #expect(requests[0].path.hasPrefix("/tmp/pbxd-ivr-abs-"))
        #expect(requests[1].path == settings.recordingsDirectory + "/a.wav")
        #expect(probes(events) == ["DTMF"])
    }

    /// `o`: `0` ends the recording too, as OPERATOR; `#` still gives DTMF.
    @Test func operatorOption() async throws {
        for (digit, status) in [("0", "OPERATOR"), ("#", "DTMF")] {
            let channel = IVRFakeChannel(state: .up)
            await channel.willRecord(.dtmf(Character(digit)))
            let events = try await runIVR(
                "[default]\nexten => s,1,Record(o.wav,,,qo)\n same => n,TestProbe(${RECORD_STATUS})",
                channel: channel, settings: mediaSettings())
            #expect(recordings(events).map(\.terminators) == ["#0"])
            #expect(probes(events) == [status])
        }
    }

    @Test func timeoutAndSkipAndNoAnswer() async throws {
        let channel = IVRFakeChannel(state: .up)
        await channel.willRecord(.timeout)
        let timedOut = try await runIVR(
            "[default]\nexten => s,1,Record(t.wav,,5,q)\n same => n,TestProbe(${RECORD_STATUS})",
            channel: channel, settings: mediaSettings())
        #expect(recordings(timedOut).map(\.maxDuration) == [.seconds(5)])
        #expect(probes(timedOut) == ["TIMEOUT"])

        let skipped = try await runIVR(
            "[default]\nexten => s,1,Record(t.wav,,,s)\n same => n,TestProbe(${RECORD_STATUS})",
            settings: mediaSettings())
        #expect(!skipped.contains(.answer) && recordings(skipped).isEmpty)
        #expect(probes(skipped) == ["SKIP"])

        let unanswered = try await runIVR(
            "[default]\nexten => s,1,Record(t.wav,,,nq)\n same => n,TestProbe(${RECORD_STATUS})",
            settings: mediaSettings())
        #expect(!unanswered.contains(.answer) && recordings(unanswered).count == 1)
        #expect(probes(unanswered) == ["SILENCE"])
    }

    /// No extension, or a format other than wav: ERROR and the call ends (Asterisk returns -1).
    @Test func badFormatIsAnError() async throws {
        for spec in ["name", "name.gsm", "dir.x/name"] {
            let log = IVRLog()
            let events = try await runIVR(
                """
                [default]
                exten => s,1,Record(\(spec))
                 same => n,TestProbe(after)
                exten => h,1,TestProbe(${RECORD_STATUS})
                """, log: log, settings: mediaSettings())
            #expect(recordings(events).isEmpty, "\(spec)")
            #expect(probes(events) == ["ERROR"], "\(spec)")
            #expect(!log.messages(atLeast: .warning).isEmpty)
        }
    }

    /// A hangup during the recording: HANGUP, the dialplan ends; the file is deleted unless `k`.
    @Test func hangupDeletesUnlessKeep() async throws {
        for (options, kept) in [("q", false), ("qk", true)] {
            let settings = mediaSettings()
            let channel = IVRFakeChannel(state: .up)
            await channel.willRecord(.hungUp)
            let events = try await runIVR(
                """
                [default]
                exten => s,1,Record(h.wav,,,\(options))
                 same => n,TestProbe(after)
                exten => h,1,TestProbe(${RECORD_STATUS})
                """, channel: channel, settings: settings)
            #expect(probes(events) == ["HANGUP"])
            #expect(FileManager.default.fileExists(atPath: settings.recordingsDirectory + "/h.wav") == kept)
        }
    }

    @Test func writeErrorIsAnError() async throws {
        let channel = IVRFakeChannel(state: .up)
        await channel.willRecord(.error("disk full"))
        let events = try await runIVR(
            """
            [default]
            exten => s,1,Record(e.wav,,,q)
             same => n,TestProbe(after)
            exten => h,1,TestProbe(${RECORD_STATUS})
            """, channel: channel, settings: mediaSettings())
        #expect(probes(events) == ["ERROR"])
    }
}

@Suite struct EchoMilliwattMusicTests {
    @Test func echoUntilHashThenOn() async throws {
        let channel = IVRFakeChannel()
        await channel.press("#")
        let events = try await runIVR(
            "[default]\nexten => s,1,Echo()\n same => n,TestProbe(after)", channel: channel, settings: mediaSettings())
        #expect(events.first == .answer)
        #expect(events.contains(.echo(terminators: "#")))
        #expect(probes(events) == ["after"])
    }

    @Test func echoHangupEndsTheDialplan() async throws {
        let events = try await runIVR("[default]\nexten => s,1,Echo()\n same => n,TestProbe(after)", settings: mediaSettings())
        #expect(events.contains(.echo(terminators: "#")))
        #expect(probes(events).isEmpty)
    }

    @Test func milliwatt() async throws {
        let events = try await runIVR(
            "[default]\nexten => s,1,Milliwatt()\n same => n,TestProbe(after)", settings: mediaSettings())
        #expect(events == [.answer, .continuous(.tone(frequency: 1004, amplitude: 23255), nil)])
        let old = try await runIVR("[default]\nexten => s,1,Milliwatt(o)", settings: mediaSettings())
        #expect(old.contains(.continuous(.tone(frequency: 1000, amplitude: 23255), nil)))
    }

    /// The class's files, for the duration (then the dialplan goes on), or until hangup; the
    /// default class when none is named; an unknown class is logged and skipped.
    @Test func musicOnHold() async throws {
        let timed = try await runIVR(
            "[default]\nexten => s,1,MusicOnHold(,7)\n same => n,TestProbe(after)", settings: mediaSettings())
        #expect(
            timed == [
                .answer, .continuous(.music(files: ["/moh/a", "/moh/b"], random: false), .seconds(7)), .probe("after"),
                .hangup(.normalClearing),
            ])

        let forever = try await runIVR(
            "[default]\nexten => s,1,MusicOnHold(shuffle)\n same => n,TestProbe(after)", settings: mediaSettings())
        #expect(forever == [.answer, .continuous(.music(files: ["/moh2/x"], random: true), nil)])

        let log = IVRLog()
        let unknown = try await runIVR(
            "[default]\nexten => s,1,MusicOnHold(jazz,5)\n same => n,TestProbe(after)", log: log, settings: mediaSettings())
        #expect(unknown == [.probe("after"), .hangup(.normalClearing)])
        #expect(log.messages(atLeast: .warning).contains { $0.contains("jazz") })
    }

    @Test func sendDTMF() async throws {
        let events = try await runIVR(
            """
            [default]
            exten => s,1,SendDTMF(123w4,300,150)
             same => n,SendDTMF(9)
             same => n,SendDTMF()
             same => n,TestProbe(after)
            """, settings: mediaSettings())
        #expect(
            events == [
                .sendDTMF("123w4", duration: .milliseconds(150), gap: .milliseconds(300)),
                .sendDTMF("9", duration: .milliseconds(100), gap: .milliseconds(250)),
                .probe("after"), .hangup(.normalClearing),
            ])
    }
}

/// Dial() requests, recorded.
final class RecordingDialer: CallDialer, @unchecked Sendable {
    // @unchecked: `targets` is only touched under `lock`.
    private let lock = NSLock()
    private var targets: [String] = []
    func place(_ target: CallTarget, for caller: (any CallChannel)?, options: PlaceOptions) async -> Result<PlacedCall, PlaceFailure> {
        .failure(PlaceFailure(cause: .unallocated, description: "this test places no calls"))
    }
    func bridge(_ caller: any CallChannel, with callee: any CallChannel) async -> BridgeEnd { .refused("this test bridges nothing") }

    func dial(from caller: any CallChannel, request: DialRequest) async -> DialResult {
        lock.withLock { targets += request.targets.map { "\($0.technology)/\($0.resource)" } }
        return DialResult(status: .chanUnavail)
    }
    var dialed: [String] { lock.withLock { targets } }
}

/// The repository's sample `conf/`: the IVR at 500 and the media extensions.
@Suite struct SampleMediaConfTests {
    static let conf = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("conf").path

    /// Runs `exten@internal`; the clock reads `date` (a weekday morning by default: the menu is open).
    func run(_ exten: String, channel: IVRFakeChannel, settings: MediaApplicationSettings = mediaSettings(),
             at date: Date = Self.tuesdayMorning) async throws -> ([IVREvent], [String]) {
        var applications = ApplicationRegistry.standard
        IVRApplications.register(into: &applications, settings: settings)
        var functions = FunctionRegistry.standard
        IVRApplications.register(into: &functions)
        let dialplan = try Dialplan.load(path: Self.conf + "/extensions.conf")
        #expect(dialplan.warnings.isEmpty, "\(dialplan.warnings)")
        let dialer = RecordingDialer()
        let log = IVRLog()
        defer { for line in log.messages(atLeast: .warning) { print("LOG:", line) } }
        let executor = DialplanExecutor(
            dialplan: dialplan.dialplan, dialer: dialer, applications: applications,
            functions: functions, logger: log.logger, clock: { date }, timeZone: TimeZone(identifier: "UTC")!)
        await executor.run(channel: channel, context: "internal", exten: exten)
        return (await channel.events, dialer.dialed)
    }

    @Test func musicOnHoldConfLoads() throws {
        let config = try MusicOnHoldConfig.load(path: Self.conf + "/musiconhold.conf")
        #expect(config.warnings.isEmpty)
        let sounds = URL(fileURLWithPath: Self.conf).deletingLastPathComponent().appendingPathComponent("sounds/moh").path
        #expect(
            config.classes["default"]
                == .init(
                    name: "default", directory: sounds, files: [sounds + "/moh-1-c-major", sounds + "/moh-2-f-major"],
                    random: false))
    }

    @Test func mediaExtensions() async throws {
        let settings = mediaSettings()
        let recorder = IVRFakeChannel()
        let (recordEvents, _) = try await run("602", channel: recorder, settings: settings)
        let file = settings.recordingsDirectory + "/demo-0"
        #expect(
            recordings(recordEvents) == [RecordingRequest(path: file + ".wav", silence: .seconds(3), maxDuration: .seconds(30))])
        #expect(played(recordEvents) == [["beep"], [file]])

        let echo = IVRFakeChannel()
        await echo.press("#")
        let (echoEvents, _) = try await run("600", channel: echo)
        #expect(echoEvents.contains(.echo(terminators: "#")) && played(echoEvents) == [["vm-goodbye"]])

        let (mwEvents, _) = try await run("601", channel: IVRFakeChannel())
        #expect(mwEvents.contains(.continuous(.tone(frequency: 1004, amplitude: 23255), nil)))
        let (mohEvents, _) = try await run("603", channel: IVRFakeChannel())
        #expect(mohEvents.contains(.continuous(.music(files: ["/moh/a", "/moh/b"], random: false), nil)))
    }
}
