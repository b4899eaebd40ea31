import NIOCore
import RTPMedia
import SIPStack

/// Why a call's media could not be set up: the peer offered nothing we can take (488).
public struct MediaNegotiationError: Error, CustomStringConvertible {
    public var description: String
}

/// One call leg's half of the media: its socket in a relay session, what we offered or answered,
/// and what the phone agreed. The caller's leg faces relay side `.a`; every callee leg of the
/// same call faces side `.b` of the same session (DESIGN.md §2 step 5). A leg that calls out
/// while that side is taken (a dialed leg running dialplan, a transferer consulting) gets its
/// callees on side `.b` of a new session on the same loop, linked across sessions.
///
/// Confined to the SIP event loop like the channel that owns it.
public final class LegMedia: @unchecked Sendable {
    // @unchecked Sendable: mutated only on the SIP event loop by the owning channel and the dial.

    let relay: RelayControl
    let side: RelayLeg
    let localAddress: String
    /// This peer's `allow` list as codecs, in preference order.
    var allowed: [Codec]
    /// The phone's last offer (inbound legs) — answered by `localAnswerBody`.
    var remoteOffer: SessionDescription?
    /// What the exchange settled: codecs, telephone-event PT, the phone's RTP address.
    private(set) var negotiation: AudioNegotiation?
    /// Our telephone-event PT when we make the offer.
    var offeredTelephoneEvent: UInt8? = 101
    private let sessionID = UInt64.random(in: 1...UInt64(Int32.max))
    private var sessionVersion: UInt64 = 1

    /// Counts itself as a user of `relay`'s `side` (`MediaEngine.release` undoes it).
    init(relay: RelayControl, side: RelayLeg, localAddress: String, allowed: [Codec]) {
        self.relay = relay
        self.side = side
        self.localAddress = localAddress
        self.allowed = allowed
        relay.retain(side)
    }

    var localPort: Int { relay.localPort(side) }

    /// The SDP body of an INVITE, if it has one we can read.
    static func offer(in request: SIPRequest) -> SessionDescription? {
        guard !request.body.isEmpty, let text = String(validating: request.body, as: UTF8.self) else { return nil }
        return try? SessionDescription(parsing: text)
    }

    /// True between our offer in a 200 (the phone sent no SDP) and the answer in its ACK.
    private(set) var awaitsAnswer = false

    /// Whether the phone has made an offer we can answer (false for a delayed-offer INVITE).
    var hasRemoteOffer: Bool { remoteOffer != nil }

    /// The SDP for our 200 OK or 183: the answer to the phone's offer, settling the codec; or,
    /// when the INVITE had no SDP, our offer (RFC 3261 §13.2.1), answered in the ACK.
    func localAnswerBody() throws -> [UInt8] {
        guard let remoteOffer else {
            awaitsAnswer = true
            return localOfferBody()
        }
        do {
            let (answer, audio) = try OfferAnswer.makeAnswer(
                to: remoteOffer, allowed: allowed, address: localAddress, port: localPort,
                sessionID: sessionID, sessionVersion: sessionVersion)
            negotiation = audio
            pointRelay(at: audio)
            return Array(answer.serialized.utf8)
        } catch {
            throw MediaNegotiationError(description: "no common audio codec")
        }
    }

    /// Our offer to a callee: the codecs the caller can use that this peer allows.
    func localOfferBody(direction: MediaDirection = .sendrecv) -> [UInt8] {
        let offer = OfferAnswer.makeOffer(
            codecs: allowed, telephoneEventPayloadType: offeredTelephoneEvent, address: localAddress, port: localPort,
            direction: direction, sessionID: sessionID, sessionVersion: sessionVersion)
        return Array(offer.serialized.utf8)
    }

    /// A new offer or answer in an existing session (re-INVITE): same codecs, new version.
    func localReofferBody(direction: MediaDirection) -> [UInt8] {
        sessionVersion += 1
        var codecs = negotiation?.codecs ?? allowed
        if codecs.isEmpty { codecs = allowed }
        let offer = OfferAnswer.makeOffer(
            codecs: codecs, telephoneEventPayloadType: negotiation?.telephoneEventPayloadType ?? offeredTelephoneEvent,
            address: localAddress, port: localPort, direction: direction,
            sessionID: sessionID, sessionVersion: sessionVersion)
        return Array(offer.serialized.utf8)
    }

    /// Reads a callee's answer (183 or 2xx). False when it rejected audio or is unreadable.
    func acceptRemoteAnswer(_ body: [UInt8]) -> Bool {
        awaitsAnswer = false
        guard let text = String(validating: body, as: UTF8.self),
            let sdp = try? SessionDescription(parsing: text),
            let audio = OfferAnswer.readAnswer(sdp)
        else { return false }
        negotiation = audio
        pointRelay(at: audio)
        return true
    }

    /// The direction the phone answered with in a re-INVITE exchange.
    func acceptRemoteAnswerDirection(_ body: [UInt8]) -> MediaDirection? {
        guard acceptRemoteAnswer(body) else { return nil }
        return negotiation?.direction.reversed
    }

    /// A re-INVITE offer from the phone: remember it and follow a moved RTP address.
    func acceptRemoteOffer(_ body: [UInt8]) -> (sdp: SessionDescription, direction: MediaDirection)? {
        guard let text = String(validating: body, as: UTF8.self), let sdp = try? SessionDescription(parsing: text),
            let audio = sdp.media.first(where: { $0.media == "audio" })
        else { return nil }
        remoteOffer = sdp
        var direction = sdp.direction(of: audio)
        if sdp.connection(of: audio)?.isNullAddress == true { direction = .inactive }
        if let connection = sdp.connection(of: audio), !connection.isNullAddress, audio.port != 0,
            let address = try? SocketAddress(ipAddress: connection.address, port: audio.port)
        {
            let side = self.side
            relay.enqueue { await $0.setRemote(side, address) }
        }
        return (sdp, direction)
    }

    /// Puts the codec the other leg settled on first, so both legs use it and nothing transcodes.
    func preferCodec(of other: LegMedia) {
        guard let chosen = other.negotiation?.codecs.first else { return }
        allowed.sort { lhs, _ in lhs.matches(chosen) }
    }

    private func pointRelay(at audio: AudioNegotiation) {
        // Port 0 is a rejected stream and 0.0.0.0 an old-style hold (RFC 2543): keep sending nowhere new.
        guard audio.remotePort != 0, audio.remoteAddress != "0.0.0.0", audio.remoteAddress != "::",
            let address = try? SocketAddress(ipAddress: audio.remoteAddress, port: audio.remotePort)
        else { return }
        let rtcp = try? SocketAddress(ipAddress: audio.remoteAddress, port: audio.remoteRTCPPort)
        let side = self.side
        relay.enqueue { await $0.setRemote(side, address, rtcp: rtcp) }
    }

    var telephoneEventPayloadType: UInt8? { negotiation?.telephoneEventPayloadType }

    /// The codec prompts are played in: the first one settled with the phone.
    var playbackCodec: Codec? { negotiation?.codecs.first }
}
