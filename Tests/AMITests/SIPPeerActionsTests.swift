import Foundation
import PBXCore
import Testing

@testable import AMI

@Suite struct SIPPeerActionsTests {
    let directory: SIPPeerDirectory

    init() {
        var phone = SIPPeer(name: "1001", location: SourceLocation(file: "sip.conf", line: 1))
        phone.secret = "pw"
        phone.nat = NATSettings()
        var trunk = SIPPeer(name: "loadgen", location: SourceLocation(file: "sip.conf", line: 9))
        trunk.host = .fixed("127.0.0.1")
        trunk.nat = NATSettings()
        var absent = SIPPeer(name: "811", location: SourceLocation(file: "sip.conf", line: 5))
        absent.nat = NATSettings()
        directory = SIPPeerDirectory(
            peers: [phone, absent, trunk],
            registration: { name in
                name == "1001" ? PeerRegistration(host: "127.0.0.1", port: 7601, contact: "sip:1001@127.0.0.1:7601",
                                                  userAgent: "functional-check", expiresAt: Date().addingTimeInterval(126)) : nil
            },
            reachability: { _ in .unmonitored }, deviceState: { _ in .notInUse })
    }

    func value(_ fields: [ManagerEvent.Field], _ key: String) -> String? { fields.first { $0.key == key }?.value }

    @Test func peerEntriesAsChanSipListsThem() async {
        let registered = await SIPPeerActions.peerEntry(directory.peers[0], directory)
        #expect(registered.prefix(7).map(\.value) == ["SIP", "1001", "peer", "127.0.0.1", "7601", "yes", "no"])
        #expect(value(registered, "Status") == "Unmonitored")
        let absent = await SIPPeerActions.peerEntry(directory.peers[1], directory)
        #expect(value(absent, "IPaddress") == "-none-" && value(absent, "IPport") == "0")
        let trunk = await SIPPeerActions.peerEntry(directory.peers[2], directory)
        #expect(value(trunk, "IPaddress") == "127.0.0.1" && value(trunk, "IPport") == "5060" && value(trunk, "Dynamic") == "no")
        #expect(registered.map(\.key) == [
            "Channeltype", "ObjectName", "ChanObjectType", "IPaddress", "IPport", "Dynamic", "AutoForcerport", "Forcerport",
            "AutoComedia", "Comedia", "VideoSupport", "TextSupport", "ACL", "Status", "RealtimeDevice", "Description", "Accountcode",
        ])
    }

    @Test func showPeerDetail() async {
        let fields = await SIPPeerActions.peerDetail(directory.peers[0], directory)
        #expect(value(fields, "SecretExist") == "Y" && value(fields, "Address-IP") == "127.0.0.1" && value(fields, "Address-Port") == "7601")
        #expect(value(fields, "SIP-Useragent") == "functional-check" && value(fields, "Reg-Contact") == "sip:1001@127.0.0.1:7601")
        #expect(value(fields, "RegExpire")?.hasSuffix(" seconds") == true)
        #expect(value(fields, "Codecs") == "(ulaw|alaw)")
        #expect(!fields.contains { $0.value == "pw" })
    }

    /// A directory whose peers are in the given device states.
    func directory(in states: [String: DeviceState]) -> SIPPeerDirectory {
        var copy = directory
        copy.deviceState = { states[$0] ?? .unknown }
        return copy
    }

    @Test func extensionStateMapsDeviceStatesAsAsteriskDoes() async {
        let cases: [(DeviceState, ExtensionState, String)] = [
            (.notInUse, .idle, "Idle"), (.unknown, .idle, "Idle"), (.inUse, .inUse, "InUse"), (.busy, .busy, "Busy"),
            (.unavailable, .unavailable, "Unavailable"), (.invalid, .unavailable, "Unavailable"),
            (.ringing, .ringing, "Ringing"), (.ringInUse, .inUseRinging, "InUse&Ringing"), (.onHold, .onHold, "Hold"),
        ]
        for (device, expected, text) in cases {
            let state = await ExtensionStateAction.state(of: "SIP/1001", peers: directory(in: ["1001": device]))
            #expect(state == expected && state.text == text, "\(device)")
        }
        #expect([ExtensionState.inUse, .busy, .unavailable, .ringing, .inUseRinging, .onHold].map(\.rawValue) == [1, 2, 4, 8, 9, 16])
    }

    @Test func severalDevicesCombineAsAstDevstateAggregate() async {
        func state(_ hint: String, _ states: [String: DeviceState]) async -> ExtensionState {
            await ExtensionStateAction.state(of: hint, peers: directory(in: states))
        }
        #expect(await state("SIP/811&SIP/1001", ["811": .ringing, "1001": .inUse]) == .inUseRinging)
        #expect(await state("SIP/811&SIP/1001", ["811": .ringing, "1001": .onHold]) == .inUseRinging)
        #expect(await state("SIP/811&SIP/1001", ["811": .unavailable, "1001": .notInUse]) == .idle)
        #expect(await state("SIP/811&SIP/1001", ["811": .onHold, "1001": .inUse]) == .inUse)
        #expect(await state("SIP/811&SIP/1001", ["811": .onHold, "1001": .notInUse]) == .onHold)
        #expect(await state("SIP/811&SIP/1001", ["811": .busy, "1001": .inUse]) == .busy)
        // A device no driver knows is Invalid: alone it shows as Unavailable.
        #expect(await state("PJSIP/200", [:]) == .unavailable)
        #expect(await state("SIP/nobody", [:]) == .unavailable)
        #expect(await state("SIP/nobody&SIP/1001", ["1001": .notInUse]) == .idle)
    }
}
