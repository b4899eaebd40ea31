import Testing
@testable import RTPMedia

@Suite struct SessionDescriptionTests {
    /// What Linphone offers (abridged), with LF-only endings and unknown lines.
    static let linphoneOffer = """
        v=0
        o=1001 3423 1234 IN IP4 192.168.1.20
        s=Talk
        i=a phone call
        c=IN IP4 192.168.1.20
        b=AS:380
        t=0 0
        a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
        m=audio 7078 RTP/AVP 96 0 8 101 97
        a=rtpmap:96 opus/48000/2
        a=fmtp:96 useinbandfec=1
        a=rtpmap:101 telephone-event/48000
        a=rtpmap:97 telephone-event/8000
        a=fmtp:97 0-15
        a=ptime:20
        a=rtcp:7079
        a=x-unknown-thing
        m=video 9078 RTP/AVP 96
        c=IN IP4 192.168.1.21
        a=rtpmap:96 VP8/90000
        a=recvonly

        """

    @Test func parsesEverything() throws {
        let sdp = try SessionDescription(parsing: Self.linphoneOffer)
        #expect(sdp.origin.username == "1001")
        #expect(sdp.origin.sessionID == 3423 && sdp.origin.sessionVersion == 1234)
        #expect(sdp.sessionName == "Talk")
        #expect(sdp.connection?.address == "192.168.1.20")
        #expect(sdp.otherLines.map(\.type) == ["i", "b"])
        #expect(sdp.attributes.first?.name == "rtcp-xr")
        #expect(sdp.media.count == 2)
        let audio = sdp.media[0]
        #expect(audio.port == 7078 && audio.proto == "RTP/AVP")
        #expect(audio.payloadTypes == [96, 0, 8, 101, 97])
        #expect(audio.rtpmap(for: 96) == RTPMap(payloadType: 96, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(audio.fmtp(for: 97) == "0-15")
        #expect(audio.ptime == 20)
        #expect(audio.rtcp?.port == 7079)
        #expect(audio.codecs.map(\.name) == ["opus", "PCMU", "PCMA", "telephone-event", "telephone-event"])
        #expect(sdp.direction(of: audio) == .sendrecv)
        #expect(sdp.direction(of: sdp.media[1]) == .recvonly)
        #expect(sdp.connection(of: sdp.media[1])?.address == "192.168.1.21")
        #expect(sdp.connection(of: audio)?.address == "192.168.1.20")
        #expect(audio.attributes.contains { $0.name == "x-unknown-thing" && $0.value == nil })
    }

    @Test func serializeRoundTrips() throws {
        let sdp = try SessionDescription(parsing: Self.linphoneOffer)
        let text = sdp.serialized
        #expect(text.hasPrefix("v=0\r\no=1001 3423 1234 IN IP4 192.168.1.20\r\ns=Talk\r\ni=a phone call\r\nc=IN IP4 192.168.1.20\r\nb=AS:380\r\nt=0 0\r\n"))
        #expect(text.contains("m=video 9078 RTP/AVP 96\r\nc=IN IP4 192.168.1.21\r\na=rtpmap:96 VP8/90000\r\na=recvonly\r\n"))
        #expect(!text.contains("\n\n") && text.hasSuffix("\r\n"))
        #expect(try SessionDescription(parsing: text) == sdp)
        // Same lines as the input, only the line endings differ.
        #expect(text.replacingOccurrences("\r\n", "\n") == Self.linphoneOffer)
    }

    @Test func rejectsGarbageNamingTheLine() {
        func error(_ text: String) -> SessionDescription.ParseError? {
            do {
                _ = try SessionDescription(parsing: text)
                return nil
            } catch let e as SessionDescription.ParseError {
                return e
            } catch {
                return nil
            }
        }
        let base = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        #expect(error(base + "m=audio 4000 RTP/AVP 0\r\n") == nil)
        let bad = error(base + "m=audio 4000 RTP/AVP 0\r\nthis is not sdp\r\n")
        #expect(bad?.line == 7)
        #expect(bad?.text == "this is not sdp")
        #expect(bad?.description.contains("line 7") == true)
        #expect(error(base + "m=audio port RTP/AVP 0\r\n")?.line == 6)
        #expect(error(base + "m=audio 4000 RTP/AVP 300\r\n")?.reason.contains("payload type") == true)
        #expect(error(base + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n")?.line == 7)
        #expect(error(base + "m=audio 4000 RTP/AVP 0\r\na=ptime:twenty\r\n")?.line == 7)
        #expect(error("o=- 1 1 IN IP4 10.0.0.1\r\n")?.line == 1)
        #expect(error("v=1\r\n")?.reason == "unsupported SDP version")
        #expect(error("v=0\r\no=- x 1 IN IP4 1.2.3.4\r\ns=-\r\n")?.line == 2)
        #expect(error("v=0\r\ns=-\r\n")?.reason == "missing o= line")
        #expect(error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4\r\n")?.line == 4)
        #expect(error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nT=0 0\r\n")?.line == 4)
        #expect(error("")?.reason == "missing v= line")
    }

    @Test func lessCommonFields() throws {
        let text = "v=0\r\no=- 1 2 IN IP6 2001:db8::1\r\ns= \r\nc=IN IP6 2001:db8::1\r\nt=3034423619 3042462419\r\nt=0 0\r\nr=604800 3600 0 90000\r\nz=2882844526 -1h\r\nm=audio 49170/2 RTP/AVP 0\r\na=rtcp:53020 IN IP4 126.16.64.4\r\nm=application 9 TCP/BFCP *\r\n"
        let sdp = try SessionDescription(parsing: text)
        #expect(sdp.origin.addressType == "IP6" && sdp.connection?.address == "2001:db8::1")
        #expect(sdp.sessionName == " ")
        #expect(sdp.timing == [.init(start: 3034423619, stop: 3042462419), .init()])
        #expect(sdp.otherLines.map(\.type) == ["r", "z"])
        #expect(sdp.media[0].port == 49170 && sdp.media[0].portCount == 2)
        #expect(sdp.media[0].rtcp?.port == 53020 && sdp.media[0].rtcp?.address == "126.16.64.4")
        #expect(sdp.media[1].formats == ["*"])  // non-RTP profiles keep their own format tokens
        #expect(sdp.serialized == text)
    }

    @Test func holdDetection() throws {
        func sdp(_ extra: String, c: String = "10.0.0.1") throws -> SessionDescription {
            try SessionDescription(parsing: "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 \(c)\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n\(extra)")
        }
        #expect(try !sdp("").isHold)
        #expect(try !sdp("a=sendrecv\r\n").isHold)
        #expect(try !sdp("a=recvonly\r\n").isHold)
        #expect(try sdp("a=sendonly\r\n").isHold)
        #expect(try sdp("a=inactive\r\n").isHold)
        #expect(try sdp("", c: "0.0.0.0").isHold)
        // Session-level direction applies when the media has none.
        let s = try SessionDescription(parsing: "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=sendonly\r\nm=audio 4000 RTP/AVP 0\r\n")
        #expect(s.isHold)
    }

    @Test func directionAlgebra() {
        #expect(MediaDirection.sendonly.reversed == .recvonly)
        #expect(MediaDirection.recvonly.reversed == .sendonly)
        #expect(MediaDirection.inactive.reversed == .inactive)
        #expect(MediaDirection.sendrecv.intersection(.recvonly) == .recvonly)
        #expect(MediaDirection.sendonly.intersection(.recvonly) == .inactive)
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        self.split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
