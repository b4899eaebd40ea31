import NIOCore

/// A sound file's frames played as RTP: the frame source already holds the channel's law.
extension FrameSource: RTPPayloadSource {
    public mutating func nextPayload(into buffer: inout ByteBuffer, codec: Codec) -> Bool {
        guard G711Law(codec: codec) == law, let frame = next() else { return false }
        buffer.writeBytes(frame)
        return true
    }
}
