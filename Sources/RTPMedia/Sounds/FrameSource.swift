/// Cuts a prompt into 20 ms RTP payloads for a G.711 channel: 160 bytes each, the last one padded
/// with the law's silence code. The whole prompt is encoded once at creation (a file already in
/// the channel's law is taken byte for byte), so `next()` only slices: no allocation, no
/// per-frame conversion on the pacing path.
///
/// Pacing, timestamps and marker bits belong to the player; each frame advances the RTP timestamp
/// by `samplesPerFrame`.
public struct FrameSource: Sendable, Sequence, IteratorProtocol {
    /// 20 ms at 8 kHz.
    public static let samplesPerFrame = 160

    public let law: G711Law
    /// Frames in the prompt: the sample count divided by 160, rounded up.
    public let frameCount: Int
    /// Encoded bytes, padded to a whole number of frames.
    private let payload: [UInt8]
    /// Index of the next frame.
    public private(set) var position = 0

    public init(_ sound: SoundData, law: G711Law) {
        var bytes = sound.encoded(as: law)
        let frames = (bytes.count + Self.samplesPerFrame - 1) / Self.samplesPerFrame
        bytes.append(contentsOf: repeatElement(law.silence, count: frames * Self.samplesPerFrame - bytes.count))
        self.law = law
        self.frameCount = frames
        self.payload = bytes
    }

    /// Reads `file` (blocking I/O) and prepares its frames.
    public init(_ file: SoundFile, law: G711Law) throws(SoundFileError) {
        self.init(try file.read(), law: law)
    }

    /// The next 20 ms payload, nil after the last.
    public mutating func next() -> ArraySlice<UInt8>? {
        guard self.position < self.frameCount else { return nil }
        let start = self.position * Self.samplesPerFrame
        self.position += 1
        return self.payload[start ..< start + Self.samplesPerFrame]
    }

    public var remainingFrames: Int { self.frameCount - self.position }

    /// Back to the first frame (music on hold loops a file).
    public mutating func rewind() { self.position = 0 }
}
