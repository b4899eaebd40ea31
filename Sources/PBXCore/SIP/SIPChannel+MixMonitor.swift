import RTPMedia

/// MixMonitor on a SIP channel: the recorder taps both legs of the relay session the channel's
/// media is in (its own leg is the "receive" side) and is stopped at the latest when the channel
/// hangs up, so the files are always closed.
extension SIPChannel: CallRecording {
    public func startMixMonitor(_ request: MixMonitorRequest) async throws(MixMonitorError) {
        guard let (session, side) = try? await eventLoop.submit({ () -> (RelaySession, RelayLeg)? in
            self.hangupCause == nil ? (self.media.relay.session, self.media.side) : nil
        }).get() else { throw .noMedia }
        let sinks = try Self.sinks(for: request)
        let recorder = MixRecorder(sinks: sinks, receiveLeg: side)
        guard await session.startMonitor(recorder) else {
            for sink in sinks.all { _ = try? await sink.finish() }
            throw .alreadyRecording
        }
        logger.info("MixMonitor started", metadata: ["file": "\(request.path)"])
        hangupFuture.whenSuccess { _ in
            Task { _ = await self.stopMixMonitor() }
        }
    }

    public func stopMixMonitor() async -> Bool {
        guard let session = try? await eventLoop.submit({ self.media.relay.session }).get() else { return false }
        let sinks = await session.stopMonitor()
        for sink in sinks {
            do {
                _ = try await sink.finish()
            } catch {
                logger.warning("MixMonitor file could not be closed", metadata: ["file": "\(sink.path)", "error": "\(error)"])
            }
        }
        if !sinks.isEmpty { logger.info("MixMonitor stopped", metadata: ["file": "\(sinks[0].path)"]) }
        return !sinks.isEmpty
    }

    private static func sinks(for request: MixMonitorRequest) throws(MixMonitorError) -> MixRecorder.Sinks {
        func sink(_ path: String) throws(MixMonitorError) -> RecordingSink {
            do {
                return try RecordingSink(path: path)
            } catch {
                throw .cannotCreate(path: path, reason: "\(error)")
            }
        }
        return MixRecorder.Sinks(
            mixed: try sink(request.path), receive: try request.receivePath.map(sink), transmit: try request.transmitPath.map(sink))
    }
}
