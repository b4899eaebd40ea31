import Foundation
import NIOConcurrencyHelpers
import RTPMedia
import Testing

@testable import PBXCore

/// The live-channel registry management reads: lookups as Asterisk's `ast_channel_get_by_name`
/// does them, AMI Hangup's `/regex/`, listings and the management hangup.
@Suite struct ChannelRegistryTests {
    /// A channel that only remembers how it was hung up.
    final class StubChannel: CallChannel {
        let name: String
        let uniqueID: String
        let linkedID: String
        let hungUpWith = NIOLockedValueBox<HangupCause?>(nil)
        let codec: String?
        init(_ name: String, _ uniqueID: String, codec: String? = nil) {
            self.name = name
            self.uniqueID = uniqueID
            self.linkedID = uniqueID
            self.codec = codec
        }
        var callerIDNumber: String { get async { "1001" } }
        var callerIDName: String { get async { "Alice" } }
        func setCallerID(number: String, name: String) async {}
        func requestHeader(_ name: String, occurrence: Int) async -> String? { nil }
        var state: ChannelState { get async { .up } }
        var snapshot: ChannelSnapshot {
            get async { ChannelSnapshot(name: name, state: .up, callerIDNumber: "1001", uniqueID: uniqueID, linkedID: linkedID) }
        }
        func setDialplanLocation(context: String, exten: String, priority: Int) async {}
        func answer() async throws {}
        func indicate(_ indication: ChannelIndication) async {}
        func hangup(cause: HangupCause) async { hungUpWith.withLockedValue { $0 = cause } }
        var isHungUp: Bool { get async { hungUpWith.withLockedValue { $0 != nil } } }
        func waitForHangup(timeout: Duration) async -> Bool { await isHungUp }
        func play(_ prompts: [String], language: String, interruptDigits: String) async -> PlaybackResult { .hungUp }
        func receiveDigit(timeout: Duration) async -> Character? { nil }
        func startTones(_ plan: TonePlan) async -> Bool { false }
        func stopTones() async {}
        func record(_ request: RecordingRequest) async -> RecordingOutcome { .hungUp }
        func echo(until terminators: String) async -> Character? { nil }
        func playContinuous(_ sound: ContinuousSound, duration: Duration?) async -> ContinuousPlayResult { .hungUp }
        func sendDTMF(_ digits: String, duration: Duration, gap: Duration) async -> Bool { false }
    }

    /// A clock tests move by hand.
    final class TestClock: Sendable {
        let now = NIOLockedValueBox(Date(timeIntervalSince1970: 1_795_306_664))
        func advance(_ seconds: Double) { now.withLockedValue { $0 = $0.addingTimeInterval(seconds) } }
        var read: @Sendable () -> Date { { self.now.withLockedValue { $0 } } }
    }

    @Test func findsByNameCaseInsensitivelyOrByUniqueidAndForgetsRemovedChannels() {
        let registry = ChannelRegistry()
        let alice = StubChannel("SIP/1001-00000001", "1795306664.1")
        registry.register(alice)
        #expect(registry.channel(named: "SIP/1001-00000001") === alice)
        #expect(registry.channel(named: "sip/1001-00000001") === alice)
        #expect(registry.channel(named: "1795306664.1") === alice)
        #expect(registry.channel(named: "SIP/1001") == nil)
        registry.remove(uniqueID: alice.uniqueID)
        #expect(registry.channel(named: "SIP/1001-00000001") == nil)
        #expect(registry.count == 0)
    }

    @Test func slashesMakeARegularExpressionOverNames() throws {
        let registry = ChannelRegistry()
        for (name, id) in [("SIP/1001-00000001", "1.1"), ("SIP/1002-00000002", "1.2"), ("SIP/trunk-00000003", "1.3")] {
            registry.register(StubChannel(name, id))
        }
        #expect(try registry.find("/100[12]/").map(\.name) == ["SIP/1001-00000001", "SIP/1002-00000002"])
        #expect(try registry.find("/^SIP/").count == 3)
        #expect(try registry.find("SIP/trunk-00000003").map(\.uniqueID) == ["1.3"])
        #expect(try registry.find("/nothing/").isEmpty)
        #expect(throws: ChannelPatternError(pattern: "(")) { try registry.find("/(/") }
    }

    @Test func listsOldestFirstWithApplicationBridgeAndDuration() async {
        let clock = TestClock()
        let registry = ChannelRegistry(clock: clock.read)
        registry.register(StubChannel("SIP/1001-00000001", "1.1"))
        clock.advance(2)
        registry.register(StubChannel("SIP/1002-00000002", "1.2"))
        registry.setApplication("Dial", data: "SIP/1002,30", uniqueID: "1.1")
        registry.setApplication("AppDial", data: "(Outgoing Line)", uniqueID: "1.2")
        registry.setBridge("b-1", uniqueID: "1.1")
        let live = await registry.list()
        #expect(live.map(\.snapshot.name) == ["SIP/1001-00000001", "SIP/1002-00000002"])
        #expect(live[0].application == "Dial" && live[0].applicationData == "SIP/1002,30" && live[0].bridgeID == "b-1")
        #expect(live[1].bridgeID == "")
        let later = clock.read().addingTimeInterval(3723)
        #expect(live[0].duration(now: later) == "01:02:05")
        #expect(live[0].seconds(now: later) == 3725)
        registry.setBridge(nil, uniqueID: "1.1")
        #expect(await registry.describe("sip/1001-00000001")?.bridgeID == "")
        #expect(await registry.describe("SIP/9999-00000000") == nil)
    }

    @Test func managementHangupAnnouncesSoftHangupRequestThenHangsUp() async {
        let bus = EventBus()
        let subscription = bus.subscribe(label: "test")
        let registry = ChannelRegistry(events: bus)
        let channel = StubChannel("SIP/1001-00000001", "1.1")
        registry.register(channel)
        await registry.hangup(channel, cause: .callRejected)
        subscription.cancel()
        var events: [ManagerEvent] = []
        for await event in subscription.events { events.append(event) }
        #expect(events.map(\.name) == ["SoftHangupRequest"])
        #expect(events.first?.fields.suffix(1) == [.init("Cause", "21")])
        #expect(events.first?["Channel"] == "SIP/1001-00000001")
        #expect(channel.hungUpWith.withLockedValue { $0 } == .callRejected)
    }

    @Test func listingsCarryTheCodecAChannelReports() async {
        let registry = ChannelRegistry()
        registry.register(StubChannel("SIP/1001-00000001", "1795306664.1", codec: "alaw"))
        registry.register(StubChannel("SIP/1002-00000002", "1795306664.2"))
        #expect(await registry.describe("SIP/1001-00000001")?.formats == ChannelFormats(codec: "alaw"))
        #expect(await registry.describe("SIP/1002-00000002")?.formats == nil)
        #expect(await registry.list().map(\.formats?.nativeDescription) == ["(alaw)", nil])
    }
}

/// `core show channels` against the Asterisk 18 capture (transcripts/ami-06-actions-lists.txt).
@Suite struct CoreShowChannelsTests {
    @Test func tableMatchesAsterisksLayout() {
        let created = Date(timeIntervalSince1970: 1_795_306_700)
        let caller = LiveChannel(
            snapshot: ChannelSnapshot(name: "SIP/1001-00000009", state: .up, context: "internal", exten: "1002", priority: 1,
                                      uniqueID: "1.9", linkedID: "1.9"),
            createdAt: created, application: "Dial", applicationData: "SIP/1002,30", bridgeID: "")
        let callee = LiveChannel(
            snapshot: ChannelSnapshot(name: "SIP/1002-0000000a", state: .up, context: "internal", exten: "", priority: 1,
                                      uniqueID: "1.10", linkedID: "1.9"),
            createdAt: created, application: "AppDial", applicationData: "(Outgoing Line)", bridgeID: "")
        #expect(CoreShowChannels.lines([caller, callee], activeCalls: 1, callsProcessed: 5) == [
            "Channel                                                          Location                         State   Application(Data)             ",
            "SIP/1001-00000009                                                1002@internal:1                  Up      Dial(SIP/1002,30)             ",
            "SIP/1002-0000000a                                                (None)                           Up      AppDial((Outgoing Line))      ",
            "2 active channels",
            "1 active call",
            "5 calls processed",
        ])
        #expect(CoreShowChannels.lines([], activeCalls: 0, callsProcessed: 1).suffix(3) == ["0 active channels", "0 active calls", "1 call processed"])
    }

    @Test func consoleCommandListsLiveChannelsAndCounts() async {
        let channels = ChannelRegistry()
        channels.register(ChannelRegistryTests.StubChannel("SIP/1001-00000001", "1.1"))
        let console = CLICommandRegistry()
        console.register(CoreShowChannels.command(channels: channels) { (active: 1, processed: 3) })
        let table = await console.run("core show channels")
        #expect(table.succeeded && table.lines.count == 5)
        #expect(table.lines[1].hasPrefix("SIP/1001-00000001 ") && table.lines[1].contains("(None)"))
        #expect(await console.run("core show channels count") == CLIResult(lines: ["1 active channel", "1 active call", "3 calls processed"]))
        #expect(await console.run("core show channels verbose").succeeded == false)
    }
}

extension ChannelRegistryTests.StubChannel: MediaFormatReporting {
    var formats: ChannelFormats? { get async { codec.map(ChannelFormats.init(codec:)) } }
}
