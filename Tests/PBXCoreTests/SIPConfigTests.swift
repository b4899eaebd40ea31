import Foundation
import SIPStack
import Testing

@testable import PBXCore

private func sipConfig(_ text: String) throws -> SIPConfig {
    try SIPConfig(try ConfigFile.parse(text, fileName: "sip.conf"))
}

/// The repository's sample `conf/` directory.
private let sampleConf = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("conf").path

@Suite("sip.conf")
struct SIPConfigTests {
    @Test func generalDefaultsAndTemplatesFlowIntoPeers() throws {
        let config = try sipConfig("""
            [general]
            context=public
            allowguest=no
            realm=pbxd
            disallow=all
            allow=alaw,ulaw
            nat=no
            minexpiry=30
            maxexpiry=600
            defaultexpiry=90
            dtmfmode=info

            [phone](!)
            type=friend
            host=dynamic
            context=internal
            nat=force_rport,comedia
            call-limit=2

            [1001](phone)
            secret=s1
            callerid="Alice Smith" <1001>

            [1002](phone)
            secret=s2
            context=special
            allow=g722
            call-limit=5

            [trunk]
            type=peer
            host=192.0.2.10
            insecure=port,invite
            """)
        #expect(config.warnings.isEmpty)
        #expect(config.general.realm == "pbxd")
        #expect(config.general.registrar == RegistrarPolicy(minExpires: 30, maxExpires: 600, defaultExpires: 90))
        #expect(config.peers.map(\.name) == ["1001", "1002", "trunk"])

        let alice = try #require(config.peer(named: "1001"))
        #expect(alice.context == "internal")
        #expect(alice.callerID == CallerID(name: "Alice Smith", number: "1001"))
        #expect(alice.codecs == [.alaw, .ulaw])
        #expect(alice.nat == NATSettings(forceRport: true, comedia: true))
        #expect(alice.dtmfMode == .info)  // from [general]
        #expect(alice.callLimit == 2)
        #expect(alice.digestSecret == .password("s1"))

        let bob = try #require(config.peer(named: "1002"))
        #expect(bob.context == "special")
        #expect(bob.codecs == [.alaw, .ulaw, .g722])
        #expect(bob.callLimit == 5)

        let trunk = try #require(config.peer(named: "trunk"))
        #expect(trunk.context == "public")  // [general] context
        #expect(config.general.context == "public")
        #expect(trunk.nat == NATSettings())  // [general] nat=no
        #expect(trunk.insecure == [.port, .invite])
        #expect(trunk.host == .fixed("192.0.2.10"))
        #expect(config.peer(named: "nobody") == nil)
        #expect(config.peer(named: "TRUNK")?.name == "trunk")
    }

    @Test func codecOrderingFollowsAllowAndDisallow() throws {
        let config = try sipConfig("""
            [general]
            disallow=all
            allow=g722,ulaw:20
            allow=alaw,ulaw
            [a]
            type=peer
            host=192.0.2.1
            disallow=ulaw
            allow=opus
            [b]
            type=peer
            host=192.0.2.2
            disallow=all
            allow=all
            disallow=g722
            [c]
            type=peer
            host=192.0.2.3
            allow=g729
            """)
        #expect(config.general.peerDefaults.codecs == [.g722, .ulaw, .alaw])
        #expect(config.peer(named: "a")?.codecs == [.g722, .alaw, .opus])
        #expect(config.peer(named: "b")?.codecs == [.ulaw, .alaw, .opus])
        #expect(config.peer(named: "c")?.codecs == [.g722, .ulaw, .alaw])
        #expect(config.warnings.map(\.description) == ["sip.conf:19: codec 'g729' is not supported by pbxd; ignored"])
    }

    @Test func accessListLastMatchWins() throws {
        let config = try sipConfig("""
            [office]
            type=friend
            host=dynamic
            secret=x
            deny=0.0.0.0/0.0.0.0
            permit=192.168.1.0/255.255.255.0
            permit=10.0.0.0/8
            deny=10.9.9.9
            permit=2001:db8::/32
            """)
        let acl = try #require(config.peer(named: "office")).acl
        #expect(acl.allows("192.168.1.77"))
        #expect(!acl.allows("192.168.2.1"))
        #expect(acl.allows("10.1.2.3"))
        #expect(!acl.allows("10.9.9.9"))
        #expect(!acl.allows("203.0.113.5"))
        #expect(acl.allows("2001:db8::1"))
        #expect(acl.allows("::ffff:192.168.1.5"))  // v4-mapped matches the IPv4 rule
        #expect(!acl.allows("2001:db9::1"))  // the /0 deny covers IPv6 too
        #expect(!acl.allows("not-an-ip"))
        #expect(IPAccessList().allows("198.51.100.1"))
    }

    @Test func ipNetworkForms() throws {
        #expect(IPNetwork("192.168.1.0/24") == IPNetwork("192.168.1.99/255.255.255.0"))
        #expect(IPNetwork("192.168.1.0/24")?.prefixLength == 24)
        #expect(IPNetwork("10.0.0.1")?.prefixLength == 32)
        #expect(IPNetwork("192.168.1.0/255.0.255.0") == nil)
        #expect(IPNetwork("192.168.1.0/33") == nil)
        #expect(IPNetwork("192.168.300.0/24") == nil)
        var acl = IPAccessList()
        let appended = acl.append(.deny, "!10.0.0.0/8")
        #expect(appended)
        let rejected = acl.append(.permit, "10.0.0.0/99")
        #expect(!rejected)
        #expect(!acl.allows("192.0.2.1"))
        #expect(acl.allows("10.1.1.1"))
    }

    @Test func errorsCarryFileAndLine() {
        let cases: [(String, String)] = [
            ("[p]\ntype=peer\nhost=192.0.2.1\ncall-limit=lots", "sip.conf:4: call-limit"),
            ("[p]\ntype=gateway", "sip.conf:2: type: expected friend, peer or user"),
            ("[p]\ntype=peer\nhost=192.0.2.1\npermit=10.0.0.0/40", "sip.conf:4: permit"),
            ("[p]\ntype=peer\nhost=192.0.2.1\nallow=ulaw,klingon", "sip.conf:4: allow: unknown codec 'klingon'"),
            ("[general]\nminexpiry=600\nmaxexpiry=60", "sip.conf:3: minexpiry (600) is greater than maxexpiry (60)"),
            ("[general]\nbindaddr=example.com", "sip.conf:2: bindaddr"),
            ("[general]\nallowguest=maybe", "sip.conf:2: allowguest: expected yes or no"),
            ("[p]\ntype=peer\nhost=192.0.2.1\nnat=sometimes", "sip.conf:4: nat"),
            ("[p]\ntype=peer\nhost=192.0.2.1:5060", "sip.conf:3: host"),
            ("[p]\ntype=peer\nhost=192.0.2.1\nmd5secret=abc", "sip.conf:4: md5secret"),
            ("[p]\nhost=dynamic", "sip.conf:1: peer [p] has host=dynamic but no secret"),
            ("[p]\ntype=peer\nhost=192.0.2.1\n[P]\ntype=peer\nhost=192.0.2.2", "sip.conf:4: duplicate peer [P]"),
        ]
        for (text, expected) in cases {
            do {
                _ = try sipConfig(text)
                Issue.record("no error for: \(text)")
            } catch {
                #expect(String(describing: error).hasPrefix(expected), "\(error)")
            }
        }
    }

    @Test func unknownKeysWarnWithLocation() throws {
        let config = try sipConfig("""
            [general]
            bogus=1
            srvlookup=yes
            secret=everyone
            [p]
            secret=x
            frobnicate=yes
            callgroup=1
            """)
        #expect(config.warnings.map(\.description) == [
            "sip.conf:2: unknown option 'bogus' in [general]; ignored",
            "sip.conf:3: 'srvlookup' in [general] is not supported by pbxd; ignored",
            "sip.conf:4: 'secret' belongs in a peer section; ignored in [general]",
            "sip.conf:7: unknown option 'frobnicate' in peer [p]; ignored",
            "sip.conf:8: 'callgroup' in peer [p] is not supported by pbxd; ignored",
        ])
        #expect(config.peer(named: "p")?.secret == "x")
        #expect(config.general.peerDefaults.secret == nil)
    }

    @Test func bindAddresses() throws {
        let a = try sipConfig("[general]\nbindaddr=0.0.0.0\nbindport=5070\ntcpenable=yes")
        #expect(a.general.udpBind == BindAddress(host: "0.0.0.0", port: 5070))
        #expect(a.general.tcpBind == BindAddress(host: "0.0.0.0", port: 5070))
        #expect(a.general.tcpEnabled)
        let b = try sipConfig("[general]\nudpbindaddr=[::]:5062\ntcpbindaddr=192.0.2.1:5063")
        #expect(b.general.udpBind == BindAddress(host: "::", port: 5062))
        #expect(b.general.tcpBind == BindAddress(host: "192.0.2.1", port: 5063))
        let c = try sipConfig("[general]")
        #expect(c.general.udpBind.description == "0.0.0.0:5060")
        #expect(c.general.realm == "asterisk")
        #expect(!c.general.allowGuest && c.general.alwaysAuthReject)
    }

    @Test func peerOptionValues() throws {
        let config = try sipConfig("""
            [p]
            type=peer
            host=192.0.2.5
            port=5080
            qualify=500
            dtmfmode=inband
            canreinvite=no
            insecure=very
            mailbox=1001@default,1002
            defaultuser=gw
            setvar=CDR(team)=sales
            transport=tcp,udp
            md5secret=0123456789ABCDEF0123456789abcdef
            callerid=5551234
            [q]
            type=peer
            host=192.0.2.6
            qualify=no
            callerid="Front Desk"
            """)
        let p = try #require(config.peer(named: "p"))
        #expect(p.port == 5080)
        #expect(p.qualify == .on(maxMilliseconds: 500))
        #expect(p.dtmfMode == .inband)
        #expect(!p.directMedia.enabled)
        #expect(p.insecure == [.port, .invite])
        #expect(p.mailboxes == ["1001@default", "1002"])
        #expect(p.defaultUser == "gw")
        #expect(p.variables.map { "\($0.name)=\($0.value)" } == ["CDR(team)=sales"])
        #expect(p.transports == ["tcp", "udp"])
        #expect(p.digestSecret == .md5HA1("0123456789abcdef0123456789abcdef"))
        #expect(p.callerID == CallerID(name: nil, number: "5551234"))
        let q = try #require(config.peer(named: "q"))
        #expect(q.qualify == .off)
        #expect(q.callerID == CallerID(name: "Front Desk", number: nil))
    }

    @Test func peerLookupBySourceAddress() throws {
        let config = try sipConfig("""
            [strict]
            type=peer
            host=192.0.2.10
            port=5070
            [trunk]
            type=peer
            host=192.0.2.10
            insecure=port,invite
            [named]
            type=peer
            host=sip.provider.example
            insecure=port
            [user]
            type=user
            host=192.0.2.20
            [v6]
            type=peer
            host=[2001:db8::10]
            """)
        #expect(config.peer(matchingSource: "192.0.2.10", port: 5070)?.name == "strict")
        #expect(config.peer(matchingSource: "192.0.2.10", port: 40000)?.name == "trunk")
        #expect(config.peer(matchingSource: "192.0.2.11", port: 5060) == nil)
        #expect(config.peer(matchingSource: "192.0.2.20", port: 5060) == nil)  // type=user
        #expect(config.peer(matchingSource: "2001:db8:0::10", port: 5060)?.name == "v6")
        #expect(config.peer(matchingSource: "198.51.100.7", port: 5099, resolvedHosts: ["sip.provider.example": ["198.51.100.7"]])?.name == "named")
    }

    @Test func sampleConfigurationLoadsCleanly() throws {
        let sip = try SIPConfig.load(path: sampleConf + "/sip.conf")
        #expect(sip.warnings.isEmpty, "\(sip.warnings)")
        #expect(sip.peers.map(\.name) == ["1001", "1002", "811", "812", "813", "823"])
        #expect(sip.general.realm == "pbxd")
        #expect(sip.general.registrar == RegistrarPolicy(minExpires: 60, maxExpires: 3600, defaultExpires: 120))
        for peer in sip.peers {
            #expect(peer.kind == .friend && peer.host == .dynamic && peer.context == "internal")
            #expect(peer.codecs == [.ulaw, .alaw])
            #expect(peer.qualify == .on(maxMilliseconds: 2000))
            #expect(peer.callerID?.number == peer.name)
            #expect(peer.secret != nil)
        }
        #expect(sip.peer(named: "1001")?.secret == "pass1001")
        #expect(sip.peer(named: "811")?.secret == "agent811pw")
        #expect(sip.peer(named: "811")?.callLimit == 1)
        #expect(sip.peer(named: "1002")?.callLimit == 2)

        let rtp = try RTPConfig.load(path: sampleConf + "/rtp.conf")
        #expect(rtp.warnings.isEmpty)
        #expect(rtp.portStart == 10000 && rtp.portEnd == 20000)
        #expect(rtp.capacity == 5000)

        let pbxd = try PBXDConfig.load(path: sampleConf + "/pbxd.conf")
        #expect(pbxd.warnings.isEmpty)
        #expect(pbxd.dataDirectory.hasSuffix("/data") && pbxd.dataDirectory.hasPrefix("/"))
        #expect(pbxd.logLevel == .info)
        #expect(pbxd.qualifyInterval == 60)
    }
}

@Suite("rtp.conf and pbxd.conf")
struct OtherConfigTests {
    @Test func rtpRangeValidation() throws {
        let ok = try RTPConfig(try ConfigFile.parse("[general]\nrtpstart=10001\nrtpend=10006\nicesupport=yes", fileName: "rtp.conf"))
        #expect(Array(ok.rtpPorts) == [10002, 10004])
        #expect(ok.warnings.count == 1)
        #expect(throws: ConfigError.self) { try RTPConfig(try ConfigFile.parse("[general]\nrtpstart=20000\nrtpend=10000", fileName: "rtp.conf")) }
        do {
            _ = try RTPConfig(try ConfigFile.parse("[general]\nrtpstart=80", fileName: "rtp.conf"))
            Issue.record("port 80 accepted")
        } catch {
            #expect(String(describing: error).hasPrefix("rtp.conf:2: rtpstart"))
        }
    }

    @Test func pbxdConfValues() throws {
        let config = try PBXDConfig(
            try ConfigFile.parse("[general]\ndatadir=/srv/pbxd\nloglevel=DEBUG\nfoo=1\n[http]\nport=8080", fileName: "pbxd.conf"))
        #expect(config.dataDirectory == "/srv/pbxd")
        #expect(config.logLevel == .debug)
        #expect(config.qualifyInterval == nil)
        #expect(config.warnings.map(\.description) == ["pbxd.conf:4: unknown option 'foo' in pbxd.conf [general]; ignored"])
        #expect(throws: ConfigError.self) { try PBXDConfig(try ConfigFile.parse("[general]\nloglevel=loud", fileName: "pbxd.conf")) }
    }
}
