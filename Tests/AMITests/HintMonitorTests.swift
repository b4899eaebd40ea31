import Dialplan
import Foundation
import PBXCore
import Testing

@testable import AMI

/// ExtensionStatus events from device state changes, as Asterisk's hint callbacks send them.
@Suite struct HintMonitorTests {
    @Test func sendsExtensionStatusOnlyWhenAHintsStateChanges() async throws {
        let (dialplan, _) = try Dialplan.parse("""
            [internal]
            exten => 1001,hint,SIP/1001
            exten => 1001,1,Dial(SIP/1001)
            exten => 600,hint,SIP/1001&SIP/811
            exten => _8XX,hint,SIP/${EXTEN}
            """)
        let peers = SIPPeerDirectory(
            peers: ["1001", "811"].map { SIPPeer(name: $0, location: SourceLocation(file: "sip.conf", line: 1)) },
            registration: { _ in nil }, reachability: { _ in .unmonitored }, deviceState: { _ in .notInUse })
        let bus = EventBus()
        let monitor = HintMonitor(dialplan: dialplan, peers: peers, bus: bus)
        #expect(monitor.hints.map { "\($0.exten)@\($0.context)" } == ["1001@internal", "600@internal"])
        let watcher = bus.subscribe(label: "test")
        monitor.start()
        // Let the monitor read the devices' start states before they change.
        try await Task.sleep(for: .milliseconds(100))
        for (device, state) in [("SIP/1001", DeviceState.onHold), ("SIP/811", .notInUse), ("SIP/811", .ringing), ("SIP/1001", .inUse)] {
            bus.publish(DeviceStateChange(device: device, state: state).event)
        }
        // A missing event ends the wait (and fails the count) instead of hanging the run.
        let deadline = Task { try await Task.sleep(for: .seconds(5)); watcher.cancel() }
        defer { deadline.cancel() }
        var statuses: [String] = []
        for await event in watcher.events where event.name == "ExtensionStatus" {
            #expect(event.eventClass == .call)
            statuses.append(["Exten", "Context", "Hint", "Status", "StatusText"].map { event[$0] ?? "-" }.joined(separator: ","))
            if statuses.count == 4 { break }
        }
        #expect(statuses == [
            "1001,internal,SIP/1001,16,Hold",
            "600,internal,SIP/1001&SIP/811,16,Hold",
            "600,internal,SIP/1001&SIP/811,9,InUse&Ringing",
            // 600 stays InUse&Ringing: no event for it.
            "1001,internal,SIP/1001,1,InUse",
        ])
    }
}
