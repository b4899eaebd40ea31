import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import PBXCore

/// FullyBooted / Shutdown / Reload and PeerStatus with the captured Asterisk 18 fields.
@Suite struct SystemEventTests {
    static func fieldText(_ event: ManagerEvent) -> String {
        event.fields.map { "\($0.key): \($0.value)" }.joined(separator: "|")
    }

    @Test func fullyBootedCountsUptimeAndSecondsSinceTheLastReload() async {
        let bus = EventBus()
        let subscription = bus.subscribe(label: "test")
        let now = NIOLockedValueBox(Date(timeIntervalSince1970: 1_795_306_600))
        let status = SystemStatus(events: bus, clock: { now.withLockedValue { $0 } })
        now.withLockedValue { $0 = $0.addingTimeInterval(10.7) }
        status.announceBooted()
        status.reloaded()
        now.withLockedValue { $0 = $0.addingTimeInterval(5) }
        status.reloaded(module: "chan_sip.so", status: .error)
        status.announceShutdown()
        subscription.cancel()
        var events: [ManagerEvent] = []
        for await event in subscription.events { events.append(event) }
        // Field order as captured (transcripts/ami-02-basic-call.txt): Uptime, LastReload, Status.
        #expect(events.map(Self.fieldText) == [
            "Uptime: 10|LastReload: 10|Status: Fully Booted",
            "Module: All|Status: 0",
            "Module: chan_sip.so|Status: 3",
            "Shutdown: Cleanly|Restart: False",
        ])
        #expect(events.map(\.name) == ["FullyBooted", "Reload", "Reload", "Shutdown"])
        #expect(events.allSatisfy { $0.eventClass == .system })
        // A failed reload does not restart the LastReload clock.
        #expect(Self.fieldText(status.fullyBootedEvent) == "Uptime: 15|LastReload: 5|Status: Fully Booted")
    }

    @Test func peerStatusCarriesChanSipsFieldsPerStatus() {
        let cases: [(PeerStatusChange, String)] = [
            (.registered(address: "127.0.0.1:7601"), "PeerStatus: Registered|Address: 127.0.0.1:7601"),
            (.unregistered(cause: "Expired"), "PeerStatus: Unregistered|Cause: Expired"),
            (.reachable(milliseconds: 12), "PeerStatus: Reachable|Time: 12"),
            (.lagged(milliseconds: 2500), "PeerStatus: Lagged|Time: 2500"),
            (.unreachable(milliseconds: -1), "PeerStatus: Unreachable|Time: -1"),
        ]
        for (change, expected) in cases {
            #expect(Self.fieldText(.peerStatus(peer: "1001", change)) == "ChannelType: SIP|Peer: SIP/1001|" + expected)
        }
        #expect(QualifyService.peerStatus(.lagged(milliseconds: 900)) == .lagged(milliseconds: 900))
        #expect(QualifyService.peerStatus(.unreachable) == .unreachable(milliseconds: -1))
        #expect(QualifyService.peerStatus(.unknown) == nil)
    }

    @Test func channelEventsPutTheirFieldsAfterTheBlock() {
        let snapshot = ChannelSnapshot(name: "SIP/1001-00000000", state: .up, callerIDNumber: "1001", uniqueID: "1.0", linkedID: "1.0")
        let block = snapshot.fields().count
        #expect(block == 14)
        func extra(_ event: ManagerEvent) -> String { event.fields.dropFirst(block).map { "\($0.key): \($0.value)" }.joined(separator: "|") }
        #expect(extra(.dtmfBegin(snapshot, digit: "#", direction: .received)) == "Digit: #|Direction: Received")
        #expect(extra(.dtmfEnd(snapshot, digit: "1", durationMs: 120, direction: .sent)) == "Digit: 1|DurationMs: 120|Direction: Sent")
        #expect(extra(.hangup(snapshot, cause: .noAnswer)) == "Cause: 19|Cause-txt: User alerting, no answer")
        #expect(extra(.hold(snapshot)) == "")
        #expect(extra(.hold(snapshot, musicClass: "office")) == "MusicClass: office")
        #expect(extra(.musicOnHoldStart(snapshot, musicClass: "default")) == "Class: default")
        #expect(ManagerEvent.dtmfEnd(snapshot, digit: "1", durationMs: 1, direction: .sent).eventClass == .dtmf)
        #expect(ManagerEvent.newexten(snapshot, application: "Dial", data: "").eventClass == .dialplan)
        #expect(ManagerEvent.hold(snapshot).eventClass == .call)
    }
}
