import RTPMedia

/// Playtones/StopPlaytones on a SIP leg: the tone plan is played from the leg's local media
/// endpoint (the same stream and clock as prompts), in the negotiated G.711 law.
extension SIPChannel {
    public func startTones(_ plan: TonePlan) async -> Bool {
        guard let endpoint = await localMediaEndpoint(), let codec = media.playbackCodec, G711Law(codec: codec) != nil else {
            return false
        }
        await endpoint.playTones(plan, codec: codec)
        return true
    }

    public func stopTones() async {
        let endpoint = try? await eventLoop.submit { self.localMedia }.get()
        guard let endpoint = endpoint ?? nil else { return }
        await endpoint.stopTones()
    }
}
