import Testing
@testable import RTPMedia

@Suite struct OfferAnswerTests {
    static func offer(_ media: String, session: String = "") throws -> SessionDescription {
        try SessionDescription(parsing: "v=0\r\no=peer 10 20 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\n\(session)\(media)")
    }

    @Test func offerFromCodecList() throws {
        var offer = OfferAnswer.makeOffer(
            codecs: [.pcma, .pcmu], telephoneEventPayloadType: 101, address: "10.0.0.5", port: 30000,
            sessionID: 777, sessionVersion: 1)
        let text = offer.serialized
        #expect(text == """
            v=0\r
            o=pbxd 777 1 IN IP4 10.0.0.5\r
            s=pbxd\r
            c=IN IP4 10.0.0.5\r
            t=0 0\r
            m=audio 30000 RTP/AVP 8 0 101\r
            a=rtpmap:8 PCMA/8000\r
            a=rtpmap:0 PCMU/8000\r
            a=rtpmap:101 telephone-event/8000\r
            a=fmtp:101 0-16\r
            a=ptime:20\r
            a=sendrecv\r

            """)
        #expect(try SessionDescription(parsing: text) == offer)
        offer.bumpVersion()
        #expect(offer.origin.sessionVersion == 2 && offer.origin.sessionID == 777)
        let hold = OfferAnswer.makeOffer(codecs: [.pcmu], address: "10.0.0.5", port: 30000, direction: .sendonly,
                                         sessionID: 777, sessionVersion: 3)
        #expect(hold.isHold)
    }

    /// The local allow order wins; PTs and telephone-event PT are the offerer's.
    @Test func answerUsesLocalOrderAndOffererPTs() throws {
        let offer = try Self.offer("""
            m=audio 7078 RTP/AVP 0 8 96\r
            a=rtpmap:96 telephone-event/8000\r
            a=fmtp:96 0-15\r
            a=ptime:30\r

            """)
        let (answer, audio) = try OfferAnswer.makeAnswer(
            to: offer, allowed: [.pcma, .pcmu], address: "10.0.0.5", port: 30002, sessionID: 1, sessionVersion: 1)
        #expect(audio.codecs.map(\.name) == ["PCMA", "PCMU"])
        #expect(audio.telephoneEventPayloadType == 96)
        #expect(audio.remoteAddress == "192.168.1.20" && audio.remotePort == 7078 && audio.remoteRTCPPort == 7079)
        #expect(audio.ptime == 30)
        let m = answer.media[0]
        #expect(m.formats == ["8", "0", "96"])
        #expect(m.port == 30002)
        #expect(m.fmtp(for: 96) == "0-15")
        #expect(m.ptime == 30)
        #expect(answer.direction(of: m) == .sendrecv)
        #expect(answer.connection?.address == "10.0.0.5")
        // Round trip through text, and the offerer reads our answer back.
        let parsed = try SessionDescription(parsing: answer.serialized)
        let read = try #require(OfferAnswer.readAnswer(parsed))
        #expect(read.codecs.first == Codec(name: "PCMA", clockRate: 8000, payloadType: 8))
        #expect(read.telephoneEventPayloadType == 96 && read.remotePort == 30002)
    }

    @Test func dynamicCodecMatchedByNameAndStaticWithoutRtpmap() throws {
        let offer = try Self.offer("m=audio 7078 RTP/AVP 111 8 120\r\na=rtpmap:111 pcmu/8000\r\na=rtpmap:120 telephone-event/8000\r\n")
        let (_, audio) = try OfferAnswer.makeAnswer(
            to: offer, allowed: [.pcmu, .pcma], address: "10.0.0.5", port: 30002, sessionID: 1, sessionVersion: 1)
        #expect(audio.codecs.map(\.payloadType) == [111, 8])
        #expect(audio.telephoneEventPayloadType == 120)
        let (_, noTE) = try OfferAnswer.makeAnswer(
            to: offer, allowed: [.pcma], acceptTelephoneEvent: false, address: "10.0.0.5", port: 30002,
            sessionID: 1, sessionVersion: 1)
        #expect(noTE.telephoneEventPayloadType == nil && noTE.codecs.map(\.name) == ["PCMA"])
    }

    @Test func directionPerRFC3264() throws {
        for (offered, answered) in [("sendonly", MediaDirection.recvonly), ("recvonly", .sendonly),
                                    ("inactive", .inactive), ("sendrecv", .sendrecv)] {
            let offer = try Self.offer("m=audio 7078 RTP/AVP 0\r\na=\(offered)\r\n")
            let (answer, audio) = try OfferAnswer.makeAnswer(
                to: offer, allowed: [.pcmu], address: "10.0.0.5", port: 30002, sessionID: 1, sessionVersion: 1)
            #expect(audio.direction == answered)
            #expect(answer.media[0].directionAttribute == answered)
        }
        // Our own wish restricts further: we want recvonly, offer sendrecv → recvonly.
        let offer = try Self.offer("m=audio 7078 RTP/AVP 0\r\n", session: "a=sendrecv\r\n")
        let (_, audio) = try OfferAnswer.makeAnswer(
            to: offer, allowed: [.pcmu], address: "10.0.0.5", port: 30002, direction: .recvonly,
            sessionID: 1, sessionVersion: 1)
        #expect(audio.direction == .recvonly)
    }

    @Test func rejectedStreamsGetPortZero() throws {
        let offer = try Self.offer("""
            m=video 9000 RTP/AVP 96\r
            a=rtpmap:96 VP8/90000\r
            m=audio 7078 RTP/AVP 18\r
            m=audio 7080 RTP/SAVP 0\r
            m=audio 7082 RTP/AVP 0\r
            c=IN IP4 172.16.0.9\r
            m=audio 7084 RTP/AVP 0\r

            """)
        let (answer, audio) = try OfferAnswer.makeAnswer(
            to: offer, allowed: [.pcmu], address: "10.0.0.5", port: 30002, sessionID: 1, sessionVersion: 1)
        #expect(answer.media.map(\.port) == [0, 0, 0, 30002, 0])
        #expect(answer.media.map(\.media) == ["video", "audio", "audio", "audio", "audio"])
        #expect(answer.media[0].formats == ["96"])
        #expect(answer.media[2].proto == "RTP/SAVP")
        // Media-level c= wins over the session's.
        #expect(audio.remoteAddress == "172.16.0.9" && audio.remotePort == 7082)
    }

    @Test func noCommonCodecThrows() throws {
        let offer = try Self.offer("m=audio 7078 RTP/AVP 18 9\r\nm=video 9000 RTP/AVP 96\r\n")
        #expect(throws: OfferAnswer.AnswerError.noAcceptableAudio) {
            try OfferAnswer.makeAnswer(to: offer, allowed: [.pcmu, .pcma], address: "10.0.0.5", port: 30002,
                                       sessionID: 1, sessionVersion: 1)
        }
        #expect(OfferAnswer.readAnswer(try Self.offer("m=audio 0 RTP/AVP 0\r\n")) == nil)
    }

    /// baresip numbers telephone-event 101, Linphone 96: the relay map bridges them both ways.
    @Test func payloadTypeMapBetweenTwoPeers() throws {
        let baresip = try Self.offer("m=audio 7078 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")
        let linphone = try Self.offer("m=audio 7080 RTP/AVP 112 96\r\na=rtpmap:112 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n")
        let (_, a) = try OfferAnswer.makeAnswer(to: baresip, allowed: [.pcmu], address: "10.0.0.5", port: 30000,
                                                sessionID: 1, sessionVersion: 1)
        let (_, b) = try OfferAnswer.makeAnswer(to: linphone, allowed: [.pcmu], address: "10.0.0.5", port: 30002,
                                                sessionID: 2, sessionVersion: 1)
        #expect(a.payloadTypeMap(to: b) == [0: 112, 101: 96])
        #expect(b.payloadTypeMap(to: a) == [112: 0, 96: 101])
        #expect(a.payloadTypeMap(to: a).isEmpty)
    }
}
