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
            reachability: { _ in .unmonitored })
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

    @Test func extensionStateFollowsRegistrationAndLiveChannels() async {
        #expect(await ExtensionStateAction.state(of: "SIP/1001", peers: directory, live: []) == .idle)
        #expect(await ExtensionStateAction.state(of: "SIP/811", peers: directory, live: []) == .unavailable)
        #expect(await ExtensionStateAction.state(of: "SIP/811&SIP/loadgen", peers: directory, live: []) == .idle)
        func channel(_ name: String, _ state: ChannelState) -> ChannelSnapshot {
            ChannelSnapshot(name: name, state: state, uniqueID: "1.1", linkedID: "1.1")
        }
        #expect(await ExtensionStateAction.state(of: "SIP/1001", peers: directory, live: [channel("SIP/1001-00000001", .up)]) == .inUse)
        #expect(await ExtensionStateAction.state(of: "SIP/1001", peers: directory, live: [channel("SIP/1001-00000002", .ringing)]) == .ringing)
        #expect(await ExtensionStateAction.state(of: "SIP/1001", peers: directory, live: [channel("SIP/10010-00000002", .up)]) == .idle)
        #expect(await ExtensionStateAction.state(of: "SIP/811&SIP/1001", peers: directory,
                                                 live: [channel("SIP/811-00000003", .ringing), channel("SIP/1001-00000004", .up)]) == .inUse)
    }
}
