/// An audio codec as SDP names it. Static payload types come from RFC 3551 Table 4; dynamic ones
/// (96–127) are whatever the offerer chose, so equality for negotiation is by name and clock rate.
public struct Codec: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var clockRate: Int
    public var payloadType: UInt8
    public var channels: Int?
    /// `a=fmtp` parameters we put in an offer (e.g. `0-16` for telephone-event).
    public var formatParameters: String?

    public init(name: String, clockRate: Int, payloadType: UInt8, channels: Int? = nil, formatParameters: String? = nil) {
        self.name = name
        self.clockRate = clockRate
        self.payloadType = payloadType
        self.channels = channels
        self.formatParameters = formatParameters
    }

    public static let pcmu = Codec(name: "PCMU", clockRate: 8000, payloadType: 0)
    public static let pcma = Codec(name: "PCMA", clockRate: 8000, payloadType: 8)
    public static let g722 = Codec(name: "G722", clockRate: 8000, payloadType: 9)
    /// RFC 4733 DTMF events. 101 is what Asterisk and baresip offer; peers may use another PT.
    public static func telephoneEvent(payloadType: UInt8 = 101) -> Codec {
        Codec(name: "telephone-event", clockRate: 8000, payloadType: payloadType, formatParameters: "0-16")
    }

    /// RFC 3551 static payload types an offer may list without `a=rtpmap`.
    public static let staticPayloadTypes: [UInt8: Codec] = [0: .pcmu, 8: .pcma, 9: .g722]

    /// Same codec, whatever PT each side numbers it with (encoding names are case-insensitive).
    public func matches(_ other: Codec) -> Bool {
        self.name.lowercased() == other.name.lowercased() && self.clockRate == other.clockRate
    }

    public var isTelephoneEvent: Bool { self.name.lowercased() == "telephone-event" }

    public var description: String { "\(self.name)/\(self.clockRate) pt \(self.payloadType)" }
}

extension MediaDescription {
    /// The codecs this section offers, in its format order: rtpmap when present, else the static
    /// table (RFC 4566 §6 lets static PTs go without rtpmap). Unknown PTs without rtpmap are skipped.
    public var codecs: [Codec] {
        let maps = self.rtpmaps
        return self.payloadTypes.compactMap { pt in
            if let m = maps.first(where: { $0.payloadType == pt }) {
                return Codec(name: m.encodingName, clockRate: m.clockRate, payloadType: pt,
                             channels: m.channels, formatParameters: self.fmtp(for: pt))
            }
            return Codec.staticPayloadTypes[pt]
        }
    }
}

/// What an offer/answer exchange settled for the (first) audio stream: what the SIP channel
/// driver needs to set up the relay (remote address, PT map for telephone-event) or playback.
public struct AudioNegotiation: Equatable, Sendable {
    /// Common codecs, preferred first; their PTs are the ones on the wire for this peer.
    public var codecs: [Codec]
    /// The peer's telephone-event PT, nil when DTMF events were not agreed.
    public var telephoneEventPayloadType: UInt8?
    /// Where to send RTP: the peer's connection address and port (port 0 = rejected).
    public var remoteAddress: String
    public var remotePort: Int
    /// RTCP port: `a=rtcp` if given, else RTP + 1.
    public var remoteRTCPPort: Int
    /// Our direction for this stream.
    public var direction: MediaDirection
    public var ptime: Int?
}

/// RFC 3264 offer/answer for audio, as a switch between two phones does it.
public enum OfferAnswer {
    public enum AnswerError: Error, Equatable {
        /// No audio stream could be accepted (none offered, or no common codec): answer 488.
        case noAcceptableAudio
    }

    /// Builds an offer with one audio stream.
    ///
    /// - Parameters:
    ///   - codecs: in preference order; their PTs are used as given.
    ///   - telephoneEventPayloadType: adds `telephone-event/8000` with `0-16` when not nil.
    ///   - sessionID/sessionVersion: `o=` values; keep the id and bump the version on re-offers.
    public static func makeOffer(
        codecs: [Codec], telephoneEventPayloadType: UInt8? = 101, address: String, port: Int,
        direction: MediaDirection = .sendrecv, ptime: Int? = 20,
        sessionID: UInt64, sessionVersion: UInt64, username: String = "pbxd"
    ) -> SessionDescription {
        var all = codecs
        if let pt = telephoneEventPayloadType { all.append(.telephoneEvent(payloadType: pt)) }
        let media = self.audioSection(codecs: all, port: port, direction: direction, ptime: ptime)
        return SessionDescription(
            origin: .init(username: username, sessionID: sessionID, sessionVersion: sessionVersion,
                          addressType: addressType(address), address: address),
            sessionName: username,
            connection: .init(addressType: addressType(address), address: address),
            media: [media])
    }

    /// Answers a received offer (RFC 3264 §6).
    ///
    /// - Codec choice: the codecs of `allowed` that the offer also lists, **in `allowed` order**
    ///   (the local allow list wins, as Asterisk does for its peers), each with the offerer's PT.
    /// - telephone-event is answered with the offerer's PT when `acceptTelephoneEvent`.
    /// - The first RTP/AVP audio stream with a common codec is accepted; every other stream
    ///   (video, a second audio, SRTP profiles we do not do yet, audio without common codec) is
    ///   answered with port 0 and the offer's formats (§6: a rejected stream keeps one format).
    /// - Direction: the offer's, reversed, intersected with `direction` (offer sendonly → recvonly,
    ///   inactive → inactive).
    /// - ptime: `ptime` if given, else the offer's.
    ///
    /// Throws `noAcceptableAudio` when nothing can be accepted (the caller answers 488).
    public static func makeAnswer(
        to offer: SessionDescription, allowed: [Codec], acceptTelephoneEvent: Bool = true,
        address: String, port: Int, direction: MediaDirection = .sendrecv, ptime: Int? = nil,
        sessionID: UInt64, sessionVersion: UInt64, username: String = "pbxd"
    ) throws -> (answer: SessionDescription, audio: AudioNegotiation) {
        var answerMedia: [MediaDescription] = []
        var negotiated: AudioNegotiation?
        for offered in offer.media {
            if negotiated == nil, offered.media == "audio", offered.port != 0, offered.proto == "RTP/AVP",
               let n = self.negotiate(offered, in: offer, allowed: allowed,
                                      acceptTelephoneEvent: acceptTelephoneEvent,
                                      direction: direction, ptime: ptime) {
                var all = n.codecs
                if let pt = n.telephoneEventPayloadType,
                   let te = offered.codecs.first(where: { $0.payloadType == pt }) {
                    all.append(te)
                }
                answerMedia.append(self.audioSection(codecs: all, port: port, direction: n.direction, ptime: n.ptime))
                negotiated = n
            } else {
                answerMedia.append(MediaDescription(
                    media: offered.media, port: 0, proto: offered.proto,
                    formats: offered.formats.isEmpty ? ["0"] : offered.formats))
            }
        }
        guard let negotiated else { throw AnswerError.noAcceptableAudio }
        let answer = SessionDescription(
            origin: .init(username: username, sessionID: sessionID, sessionVersion: sessionVersion,
                          addressType: addressType(address), address: address),
            sessionName: username,
            connection: .init(addressType: addressType(address), address: address),
            media: answerMedia)
        return (answer, negotiated)
    }

    /// Reads the answer to an offer we sent: the codecs it kept (in the answer's order, which is
    /// the answerer's preference), its telephone-event PT and where to send. Nil when the audio
    /// stream was rejected (port 0) or no audio is present.
    public static func readAnswer(_ answer: SessionDescription) -> AudioNegotiation? {
        guard let audio = answer.media.first(where: { $0.media == "audio" }), audio.port != 0,
              let address = answer.connection(of: audio)?.address
        else { return nil }
        let codecs = audio.codecs
        return AudioNegotiation(
            codecs: codecs.filter { !$0.isTelephoneEvent },
            telephoneEventPayloadType: codecs.first(where: \.isTelephoneEvent)?.payloadType,
            remoteAddress: address, remotePort: audio.port,
            remoteRTCPPort: audio.rtcp?.port ?? audio.port + 1,
            direction: answer.direction(of: audio).reversed, ptime: audio.ptime)
    }

    // MARK: Helpers

    static func negotiate(
        _ offered: MediaDescription, in offer: SessionDescription, allowed: [Codec],
        acceptTelephoneEvent: Bool, direction: MediaDirection, ptime: Int?
    ) -> AudioNegotiation? {
        let offeredCodecs = offered.codecs
        let common = allowed.filter { !$0.isTelephoneEvent }.compactMap { local in
            offeredCodecs.first { $0.matches(local) }
        }
        guard !common.isEmpty, let address = offer.connection(of: offered)?.address else { return nil }
        let te = acceptTelephoneEvent
            ? offeredCodecs.first { $0.isTelephoneEvent && $0.clockRate == 8000 }?.payloadType : nil
        return AudioNegotiation(
            codecs: common, telephoneEventPayloadType: te,
            remoteAddress: address, remotePort: offered.port,
            remoteRTCPPort: offered.rtcp?.port ?? offered.port + 1,
            direction: offer.direction(of: offered).reversed.intersection(direction),
            ptime: ptime ?? offered.ptime)
    }

    static func audioSection(codecs: [Codec], port: Int, direction: MediaDirection, ptime: Int?) -> MediaDescription {
        var media = MediaDescription(port: port, formats: codecs.map { String($0.payloadType) })
        for c in codecs {
            let map = RTPMap(payloadType: c.payloadType, encodingName: c.name, clockRate: c.clockRate, channels: c.channels)
            media.attributes.append(.init("rtpmap", map.attributeValue))
            if let f = c.formatParameters { media.attributes.append(.init("fmtp", "\(c.payloadType) \(f)")) }
        }
        if let ptime { media.attributes.append(.init("ptime", String(ptime))) }
        media.setDirection(direction)
        return media
    }

    static func addressType(_ address: String) -> String { address.contains(":") ? "IP6" : "IP4" }
}

extension AudioNegotiation {
    /// The payload-type rewrite for packets going from this peer to `other` (for
    /// `RelaySession.setPayloadTypeMap`): each codec and telephone-event as this peer numbers it,
    /// to the number `other` agreed for the same codec. Only differing PTs are listed, so two
    /// phones that agree on everything get an empty map and the relay rewrites nothing.
    public func payloadTypeMap(to other: AudioNegotiation) -> [UInt8: UInt8] {
        var map: [UInt8: UInt8] = [:]
        for codec in self.codecs {
            if let match = other.codecs.first(where: { $0.matches(codec) }), match.payloadType != codec.payloadType {
                map[codec.payloadType] = match.payloadType
            }
        }
        if let mine = self.telephoneEventPayloadType, let theirs = other.telephoneEventPayloadType, mine != theirs {
            map[mine] = theirs
        }
        return map
    }
}
