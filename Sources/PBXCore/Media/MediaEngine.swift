import Logging
import NIOCore
import RTPMedia

/// Sets up and tears down call media: a relay session per call, one `LegMedia` per leg, and the
/// bridge that links the two sides. Runs its bookkeeping on the SIP event loop; packets never
/// come near it (they stay in RTPMedia's relay on the media loop).
public final class MediaEngine: Sendable {
    let relay: RTPRelay
    let signallingLoop: any EventLoop
    let logger: Logger
    /// Where prompts are looked up (pbxd's `sounds/`, then Asterisk's sound packages).
    let sounds: SoundLibrary

    public init(relay: RTPRelay, signallingLoop: any EventLoop, sounds: SoundLibrary, logger: Logger) {
        self.relay = relay
        self.signallingLoop = signallingLoop
        self.sounds = sounds
        self.logger = logger
    }

    /// Binds a relay session for a new inbound call and takes the caller's offer.
    func prepareInbound(offer: SessionDescription?, allow: [Codec], localAddress address: String) -> EventLoopFuture<LegMedia> {
        let promise = signallingLoop.makePromise(of: LegMedia.self)
        let relay = self.relay
        promise.completeWithTask {
            let session = try await relay.makeSession()
            let leg = LegMedia(relay: RelayControl(session: session), side: .a, localAddress: address, allowed: allow, ownsSession: true)
            return leg
        }
        return promise.futureResult.flatMapThrowing { leg in
            guard let offer else { return leg }  // delayed offer: we offer in the 200
            leg.remoteOffer = offer
            // Validate now: a call we cannot answer is refused before anyone rings (488); its
            // ports go straight back to the pool.
            do {
                _ = try leg.localAnswerBody()
            } catch {
                self.release(leg)
                throw error
            }
            return leg
        }
    }

    /// A relay session of its own for an originated call's first leg, which offers.
    func prepareOriginated(allow: [Codec], localAddress address: String) async throws -> LegMedia {
        let session = try await relay.makeSession()
        return LegMedia(relay: RelayControl(session: session), side: .a, localAddress: address, allowed: allow, ownsSession: true)
    }

    /// The callee side of the caller's session, offering what the caller can send.
    func prepareOutbound(for caller: LegMedia, allow: [Codec], localAddress: String) -> LegMedia {
        let callerCodecs = caller.negotiation?.codecs ?? caller.allowed
        let usable = allow.filter { local in callerCodecs.contains { $0.matches(local) } }
        let leg = LegMedia(relay: caller.relay, side: .b, localAddress: localAddress, allowed: usable.isEmpty ? allow : usable, ownsSession: false)
        leg.offeredTelephoneEvent = caller.telephoneEventPayloadType ?? 101
        return leg
    }

    /// Links caller and callee media: telephone-event PTs mapped when the phones differ.
    func bridge(caller: LegMedia, callee: LegMedia) {
        let callerSide = caller.side, calleeSide = callee.side
        if let from = caller.telephoneEventPayloadType, let to = callee.telephoneEventPayloadType, from != to {
            caller.relay.enqueue { await $0.setPayloadTypeMap(from: callerSide, [from: to]) }
            caller.relay.enqueue { await $0.setPayloadTypeMap(from: calleeSide, [to: from]) }
        }
        caller.relay.enqueue { await $0.start() }
    }

    /// Undoes `bridge` after a Dial that never got answered (early media only), so the caller's
    /// leg can play prompts again.
    func unbridge(caller: LegMedia) {
        caller.relay.enqueue { await $0.unbridge() }
    }

    /// Frees a leg's media; the session closes with the leg that owns it.
    func release(_ media: LegMedia) {
        guard media.ownsSession else { return }
        media.relay.enqueue { await $0.close() }
    }
}
