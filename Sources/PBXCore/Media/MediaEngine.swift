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
            let leg = LegMedia(relay: RelayControl(session: session), side: .a, localAddress: address, allowed: allow)
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
        return LegMedia(relay: RelayControl(session: session), side: .a, localAddress: address, allowed: allow)
    }

    /// Where `caller`'s callees go: side `.b` of its own session while that is free (the usual
    /// Dial), else side `.b` of a new session on the same loop (the caller is itself a dialed
    /// leg, or its side `.b` still has a party, e.g. a held transferee). A new session that no
    /// leg ends up using must be given to `releaseIfUnused`.
    func calleeRelay(for caller: LegMedia) async throws -> RelayControl {
        let shared = try await signallingLoop.submit { caller.side == .a && !caller.relay.isInUse(.b) }.get()
        if shared { return caller.relay }
        return RelayControl(session: try await relay.makeSession(on: caller.relay.session.eventLoop))
    }

    /// Closes a session from `calleeRelay` that no leg took (every target failed at once).
    func releaseIfUnused(_ control: RelayControl) {
        guard !control.isInUse(.a), !control.isInUse(.b) else { return }
        control.enqueue { await $0.close() }
    }

    /// A callee leg on side `.b` of `relay` (from `calleeRelay`), offering what the caller can send.
    func prepareOutbound(for caller: LegMedia, on relay: RelayControl, allow: [Codec], localAddress: String) -> LegMedia {
        let callerCodecs = caller.negotiation?.codecs ?? caller.allowed
        let usable = allow.filter { local in callerCodecs.contains { $0.matches(local) } }
        let leg = LegMedia(relay: relay, side: .b, localAddress: localAddress, allowed: usable.isEmpty ? allow : usable)
        leg.offeredTelephoneEvent = caller.telephoneEventPayloadType ?? 101
        return leg
    }

    /// Links caller and callee media (two sides of one session, or legs of two sessions on one
    /// loop): telephone-event PTs mapped when the phones differ, and cleared when they don't (a
    /// leg may have had another party before).
    func bridge(caller: LegMedia, callee: LegMedia) {
        let callerSide = caller.side, calleeSide = callee.side
        let pair = (caller.telephoneEventPayloadType, callee.telephoneEventPayloadType)
        let differ = pair.0 != nil && pair.1 != nil && pair.0 != pair.1
        let towardCallee: [UInt8: UInt8] = differ ? [pair.0!: pair.1!] : [:]
        let towardCaller: [UInt8: UInt8] = differ ? [pair.1!: pair.0!] : [:]
        caller.relay.enqueue { await $0.setPayloadTypeMap(from: callerSide, towardCallee) }
        callee.relay.enqueue { await $0.setPayloadTypeMap(from: calleeSide, towardCaller) }
        if caller.relay === callee.relay {
            caller.relay.enqueue { await $0.start() }
            return
        }
        let other = callee.relay.session
        let logger = self.logger
        caller.relay.enqueue { session in
            do {
                try await session.link(callerSide, to: other, calleeSide)
            } catch {
                logger.error("cannot link call media", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Undoes `bridge` for `leg` (a Dial that never got answered, a leg redirected or held), so
    /// it can play prompts again; its former party is unlinked too.
    func unbridge(caller leg: LegMedia) {
        let side = leg.side
        leg.relay.enqueue { await $0.unlink(side) }
    }

    /// Frees a leg's media; the session closes with its last leg.
    func release(_ media: LegMedia) {
        guard media.relay.release(media.side) else { return }
        media.relay.enqueue { await $0.close() }
    }
}
