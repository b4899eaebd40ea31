import NIOCore

/// Music on hold: the frames of several files played one after the other and started over at
/// the end, for ever (the player is stopped by hangup, a bridge or MusicOnHold's duration).
/// `order` is the class's `sort=`: `.alphabetical` plays the files in the given order,
/// `.random` picks each next file at random (not the same one twice in a row when there are
/// several), as Asterisk's `sort=random` does.
public struct MusicSource: RTPPayloadSource, Sendable {
    public enum Order: Sendable, Equatable {
        case alphabetical
        case random
    }

    private var files: [FrameSource]
    public let order: Order
    /// The file playing now.
    public private(set) var current: Int
    /// How many times a file was started (1 after the first frame of the first file).
    public private(set) var filesStarted = 0

    /// Nil when no file has any frame (nothing would ever play).
    public init?(files: [FrameSource], order: Order = .alphabetical) {
        guard files.contains(where: { $0.frameCount > 0 }) else { return nil }
        self.files = files
        self.order = order
        self.current = order == .random ? Int.random(in: 0..<files.count) : 0
    }

    public mutating func nextPayload(into buffer: inout ByteBuffer, codec: Codec) -> Bool {
        // At most one pass over all files to find the next frame (empty files are skipped).
        for _ in 0...self.files.count {
            if self.files[self.current].position == 0, self.files[self.current].frameCount > 0 { self.filesStarted += 1 }
            if self.files[self.current].nextPayload(into: &buffer, codec: codec) { return true }
            if self.files[self.current].remainingFrames > 0 { return false }  // wrong codec for the file
            self.files[self.current].rewind()
            self.advance()
        }
        return false
    }

    private mutating func advance() {
        switch self.order {
        case .alphabetical:
            self.current = (self.current + 1) % self.files.count
        case .random:
            guard self.files.count > 1 else { return }
            var next = Int.random(in: 0..<(self.files.count - 1))
            if next >= self.current { next += 1 }
            self.current = next
        }
    }
}
