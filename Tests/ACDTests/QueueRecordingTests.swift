import Dialplan
import Foundation
import PBXCore
import Testing
@testable import ACD

/// queues.conf `monitor-type`/`monitor-format`: answered queue calls run MixMonitor on the
/// caller's channel just before the bridge, named as app_queue names them.
@Suite struct QueueRecordingTests {
    /// A MixMonitor stand-in that writes its argument into the call's log.
    static let fakeMixMonitor = Application(name: "MixMonitor", isInstant: true) { execution, data in
        await (execution.channel as? FakeQueueChannel)?.log.add("mixmonitor \(data)")
        return .proceed
    }

    static let recorded = """
        [general]
        monitor-type = MixMonitor

        [600]
        strategy = linear
        timeout = 1
        retry = 0
        monitor-format = wav
        member => SIP/811
        """

    @Test func theAnsweredCallIsRecordedByUniqueidFromTheBridgeOn() async throws {
        let run = try await QueueApplicationTests.run(
            queues: Self.recorded, members: ["SIP/811": .answer(after: .milliseconds(30))], extra: [Self.fakeMixMonitor])
        let answered = try #require(run.log.firstIndex(of: "SIP/811: answered"))
        let recording = try #require(run.log.firstIndex(of: "mixmonitor 1795306679.2.wav"))
        let bridge = try #require(run.log.firstIndex(of: "bridge SIP/loadgen-00000002 with SIP/811-00000001"))
        #expect(answered < recording && recording < bridge)
        #expect(run.log.filter { $0.hasPrefix("mixmonitor") }.count == 1)
    }

    @Test func monitorFilenameOptionsAndExecComeFromTheCallersVariables() async throws {
        let dialplan = """
            exten => 600,1,Set(MONITOR_FILENAME=q-${UNIQUEID})
             same => n,Set(MONITOR_OPTIONS=r(in))
             same => n,Set(MONITOR_EXEC=/bin/true)
             same => n,Queue(600,,,,3)
            """
        let run = try await QueueApplicationTests.run(
            queues: Self.recorded, members: ["SIP/811": .answer(after: .milliseconds(30))], dialplan: dialplan + "\n",
            extra: [Self.fakeMixMonitor])
        #expect(run.log.filter { $0.hasPrefix("mixmonitor") } == ["mixmonitor q-1795306679.2.wav,r(in),/bin/true"])
    }

    @Test func noMonitorFormatNoRecording() async throws {
        let queues = Self.recorded.replacingOccurrences(of: "monitor-format = wav", with: "")
        let run = try await QueueApplicationTests.run(
            queues: queues, members: ["SIP/811": .answer(after: .milliseconds(30))], extra: [Self.fakeMixMonitor])
        #expect(run.log.contains("bridge SIP/loadgen-00000002 with SIP/811-00000001"))
        #expect(!run.log.contains { $0.hasPrefix("mixmonitor") })
    }

    @Test func anUnansweredCallIsNotRecorded() async throws {
        let run = try await QueueApplicationTests.run(
            queues: Self.recorded, members: ["SIP/811": .noAnswer], dialplan: "exten => 600,1,Queue(600,,,,2)\n",
            extra: [Self.fakeMixMonitor])
        #expect(!run.log.contains { $0.hasPrefix("mixmonitor") })
    }

    @Test func configReadsTypeFormatAndWarnsWhereRecordingDiffers() throws {
        let config = try QueuesConfig(ConfigFile.parse(Self.recorded, fileName: "queues.conf"))
        #expect(config.queues[0].monitorFormat == "wav" && config.queues[0].monitorType == .mixMonitor)
        #expect(config.warnings.isEmpty)
        let other = try QueuesConfig(ConfigFile.parse("""
            [sales]
            monitor-format = gsm
            member => SIP/811
            [support]
            member => SIP/812
            """, fileName: "queues.conf"))
        #expect(other.queues[0].monitorFormat == "wav" && other.queues[0].monitorType == .monitor)
        #expect(other.queues[1].monitorFormat == nil)
        let messages = other.warnings.map(\.message)
        #expect(messages.contains { $0.contains("records wav, ogg or opus") })
        #expect(messages.contains { $0.contains("monitor-type Monitor is not supported") })
        #expect(other.warnings.allSatisfy { $0.location.line == 2 })
        let opus = try QueuesConfig(ConfigFile.parse("[q]\nmonitor-type = MixMonitor\nmonitor-format = ogg\n", fileName: "queues.conf"))
        #expect(opus.queues[0].monitorFormat == "ogg" && opus.warnings.isEmpty)
    }

    /// The sample conf/queues.conf records queue 600's calls.
    @Test func sampleQueueRecordsItsCalls() throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../conf/queues.conf").path
        let config = try QueuesConfig.load(path: sample)
        let queue = try #require(config.queues.first { $0.name == "600" })
        #expect(queue.monitorFormat == "wav" && queue.monitorType == .mixMonitor)
        #expect(config.warnings.isEmpty, "\(config.warnings)")
    }
}
