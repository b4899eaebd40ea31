import RTPMedia

/// The leg's audio format for Status, as chan_sip's `sip_new` sets it: the preferred codec of
/// what the offer/answer settled; before that, the one the phone's pending offer would settle
/// (inbound, not yet answered); else the peer's first `allow`ed codec (an outbound leg still
/// waiting for its answer).
extension SIPChannel: MediaFormatReporting {
    public var formats: ChannelFormats? {
        get async { (try? await eventLoop.submit { self.media.statusCodec.flatMap(ChannelFormats.init(sdpCodec:)) }.get()) ?? nil }
    }
}

extension LegMedia {
    /// The codec Status reports. Loop-confined.
    var statusCodec: Codec? {
        if let settled = negotiation?.codecs.first { return settled }
        if let remoteOffer,
            let pending = try? OfferAnswer.makeAnswer(
                to: remoteOffer, allowed: allowed, address: localAddress, port: localPort, sessionID: 1, sessionVersion: 1)
        {
            return pending.audio.codecs.first
        }
        return allowed.first
    }
}

extension ChannelFormats {
    /// Asterisk's name (`ulaw`, `alaw`, `g722`, `opus`) for a codec pbxd negotiates; nil for any other.
    init?(sdpCodec codec: Codec) {
        guard let name = CodecName.allCases.first(where: { $0.sdpCodec.matches(codec) }) else { return nil }
        self.init(codec: name.rawValue)
    }
}
