import NIOCore

/// MixMonitor's hook into a relay session: a tap stage on both legs' RTP endpoints, present
/// only while recording (the forwarding path checks one optional otherwise).
extension RelaySession {
    /// Starts `recorder` on this session: every RTP packet from either phone (bridged, or going
    /// to local media) is handed to it as well as forwarded. False when a recording is already
    /// running here, or the session is closed.
    public func startMonitor(_ recorder: sending MixRecorder) async -> Bool {
        let box = NIOLoopBoundBox.makeBoxSendingValue(recorder, eventLoop: self.eventLoop)
        let clock = self.mediaClock
        return (try? await self.onLoopThrowing { state -> Bool in
            guard !state.closed, state.aRTP.monitor == nil, state.bRTP.monitor == nil else { return false }
            let recorder = box.value
            state.aRTP.monitor = recorder.tap(for: .a)
            state.bRTP.monitor = recorder.tap(for: .b)
            recorder.follow(clock)
            return true
        }) ?? false
    }

    /// Removes the taps and stops the recording; returns its sinks (empty when none was running)
    /// for the caller to `finish()` off the loop.
    public func stopMonitor() async -> [RecordingSink] {
        (try? await self.onLoopThrowing { state -> [RecordingSink] in
            guard let tap = (state.aRTP.monitor ?? state.bRTP.monitor) as? MixRecorder.DirectionTap else { return [] }
            state.aRTP.monitor = nil
            state.bRTP.monitor = nil
            tap.recorder.stop()
            return tap.recorder.sinks.all
        }) ?? []
    }
}
