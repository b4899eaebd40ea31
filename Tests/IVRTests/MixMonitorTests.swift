import Foundation
import PBXCore
import Testing
@testable import Dialplan
@testable import IVR

/// A channel that can be recorded: remembers the requests and whether one is running.
actor RecordingFakeChannel: CallRecording {
    private(set) var requests: [MixMonitorRequest] = []
    private(set) var running = false
    private(set) var stops = 0

    func startMixMonitor(_ request: MixMonitorRequest) async throws(MixMonitorError) {
        guard !running else { throw .alreadyRecording }
        requests.append(request)
        running = true
    }

    func stopMixMonitor() async -> Bool {
        guard running else { return false }
        running = false
        stops += 1
        return true
    }
}

/// The IVR fake channel records MixMonitor requests as events (and never refuses one).
extension IVRFakeChannel: CallRecording {
    func startMixMonitor(_ request: MixMonitorRequest) async throws(MixMonitorError) { record(.mixMonitor(request)) }
    func stopMixMonitor() async -> Bool { false }
}

@Suite struct MixMonitorTests {
    let recordings = NSTemporaryDirectory() + "mixmon-\(UUID().uuidString)"

    @Test func optionsReadFilesAndReportTheRest() {
        let options = MixMonitorOptions("br(in.wav)at(out)v(2)")
        #expect(options.receiveFile == "in.wav" && options.transmitFile == "out")
        #expect(options.unsupported == ["b", "a", "v(2)"])
    }

    @Test func relativeNamesGoUnderTheDayFolderWithWav() {
        let date = Date(timeIntervalSince1970: 1_795_306_812)  // 2026-11-22 in UTC
        let folder = MixMonitorApplications.datedFolder("/data/recordings", date: date, timeZone: TimeZone(identifier: "UTC")!)
        #expect(folder == "/data/recordings/2026/11/22")
        #expect(MixMonitorApplications.path("call-1795306812.12", folder: folder) == folder + "/call-1795306812.12.wav")
        #expect(MixMonitorApplications.path("x.WAV", folder: folder) == folder + "/x.WAV")
        #expect(MixMonitorApplications.path("/abs/y.wav", folder: folder) == "/abs/y.wav")
        #expect(MixMonitorApplications.path("long.ogg", folder: folder) == folder + "/long.ogg")
        #expect(MixMonitorApplications.path("long.OPUS", folder: folder) == folder + "/long.OPUS")
    }

    @Test func managerActionsStartAndStopByChannelName() async throws {
        let channel = RecordingFakeChannel()
        let registry = ManagerActionRegistry()
        MixMonitorManagerActions.register(
            into: registry, recordingsDirectory: recordings,
            lookup: { name in name == "SIP/1001-00000001" ? channel : nil },
            clock: { Date(timeIntervalSince1970: 1_795_306_812) })
        let start = try #require(registry.action(named: "mixmonitor"))
        let stop = try #require(registry.action(named: "StopMixMonitor"))
        func run(_ action: ManagerAction, _ headers: [(String, String)]) async -> ManagerReply {
            await action.handler(ManagerRequest(headers: headers.map { ManagerEvent.Field($0.0, $0.1) }))
        }
        guard case .error("No channel specified") = await run(start, [("File", "x.wav")]) else { Issue.record("no channel"); return }
        guard case .error("No such channel") = await run(start, [("Channel", "SIP/9"), ("File", "x.wav")]) else {
            Issue.record("unknown channel"); return
        }
        let reply = await run(start, [("Channel", "SIP/1001-00000001"), ("File", "ami-call"), ("Options", "r(rx)")])
        guard case .success(nil, let fields) = reply else { Issue.record("start: \(reply)"); return }
        let requests = await channel.requests
        let day = MixMonitorApplications.datedFolder(recordings, date: Date(timeIntervalSince1970: 1_795_306_812), timeZone: .current)
        #expect(requests == [MixMonitorRequest(path: day + "/ami-call.wav", receivePath: day + "/rx.wav")])
        #expect(fields == [ManagerEvent.Field("MixMonitorID", day + "/ami-call.wav")])
        #expect(FileManager.default.fileExists(atPath: day), "the day folder is created")
        guard case .error("Could not start monitoring channel") = await run(start, [("Channel", "SIP/1001-00000001"), ("File", "again")])
        else { Issue.record("second start"); return }
        guard case .success("Stopped monitoring channel", _) = await run(stop, [("Channel", "SIP/1001-00000001")]) else {
            Issue.record("stop"); return
        }
        guard case .error("Could not stop monitoring channel") = await run(stop, [("Channel", "SIP/1001-00000001")]) else {
            Issue.record("second stop"); return
        }
        #expect(await channel.stops == 1)
    }
}

@Suite struct MixMonitorCDRTests {
    /// The application names the mixed file in MIXMONITOR_FILENAME and the channel's CDR
    /// `recordingfile`; a later `Set(CDR(recordingfile)=…)` replaces it.
    @Test func applicationSetsTheCDRRecordingFile() async throws {
        let recordings = NSTemporaryDirectory() + "mixmon-cdr-\(UUID().uuidString)"
        let store = CDRVariableStore()
        let channel = IVRFakeChannel(state: .up)
        let events = try await runIVR(
            """
            [default]
            exten => s,1,MixMonitor(call-${UNIQUEID})
             same => n,TestProbe(${MIXMONITOR_FILENAME})
            """, channel: channel, extra: MixMonitorApplications.all(recordingsDirectory: recordings, cdrVariables: store))
        let path = try #require(probes(events).first)
        #expect(path.hasPrefix(recordings + "/") && path.hasSuffix("/call-1732200000.1.wav"))
        #expect(events.contains(.mixMonitor(MixMonitorRequest(path: path))))
        #expect(store.value("recordingfile", channel: channel.uniqueID) == path)
    }

    /// A file that cannot be created (its folder is a regular file) leaves `recordingfile` unset.
    @Test func failedStartLeavesNoRecordingFile() async throws {
        let blocker = NSTemporaryDirectory() + "mixmon-file-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: blocker, contents: Data())
        let store = CDRVariableStore()
        let events = try await runIVR(
            """
            [default]
            exten => s,1,MixMonitor(\(blocker)/sub/x.wav)
             same => n,TestProbe(${MIXMONITOR_FILENAME})
            """, channel: IVRFakeChannel(state: .up),
            extra: MixMonitorApplications.all(recordingsDirectory: NSTemporaryDirectory(), cdrVariables: store))
        #expect(probes(events) == [""])
        #expect(store.count == 0)
    }

    /// The AMI action names the file in the CDR too (the channel found is a `CallChannel`).
    @Test func managerActionSetsTheCDRRecordingFile() async throws {
        let recordings = NSTemporaryDirectory() + "mixmon-cdr-\(UUID().uuidString)"
        let store = CDRVariableStore()
        let channel = IVRFakeChannel(state: .up)
        let registry = ManagerActionRegistry()
        MixMonitorManagerActions.register(
            into: registry, recordingsDirectory: recordings, lookup: { _ in channel }, cdrVariables: store)
        let action = try #require(registry.action(named: "MixMonitor"))
        let reply = await action.handler(ManagerRequest(headers: [.init("Channel", channel.name), .init("File", "ami")]))
        guard case .success(_, let fields) = reply else { Issue.record("start: \(reply)"); return }
        #expect(store.value("recordingfile", channel: channel.uniqueID) == fields.first?.value)
    }
}
