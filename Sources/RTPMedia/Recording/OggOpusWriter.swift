import COpus
import Foundation

/// Writes an Ogg/Opus file (RFC 7845) from 8 kHz 16-bit mono samples, incrementally: the
/// OpusHead and OpusTags pages at once, then each `append` encodes whole 20 ms frames (VoIP
/// mode, 16 kbit/s: about a tenth of the 128 kbit/s of the WAV) and writes them as one page,
/// so a crash leaves a playable file up to the last append. `close()` encodes the rest
/// (padded with silence, trimmed again by the last page's granule position) on the
/// end-of-stream page.
///
/// Blocking file I/O: use it off the event loops (`RecordingSink` gives it its own queue).
public final class OggOpusWriter: RecordingFileWriter {
    public static let sampleRate = 8000
    static let frameSamples = 160
    /// Granule positions count 48 kHz samples whatever the input rate.
    static let granuleScale = 48_000 / sampleRate
    public static let bitrate: Int32 = 16_000

    public let path: String
    private let handle: FileHandle
    private let encoder: OpaquePointer
    private let serial: UInt32
    private let preSkip: Int
    private var sequence: UInt32 = 0
    private var pending: [Int16] = []
    private var encodedSamples = 0
    private var trim = 0
    private var closed = false
    private var packet = [UInt8](repeating: 0, count: 1500)

    public struct EncoderError: Error, CustomStringConvertible {
        public var code: Int32
        public var description: String { "libopus error \(code): \(String(cString: opus_strerror(code)))" }
    }

    /// Creates (or truncates) `path` and writes the two header pages.
    public init(path: String) throws {
        var error: Int32 = 0
        guard let encoder = opus_encoder_create(Int32(Self.sampleRate), 1, OPUS_APPLICATION_VOIP, &error), error == OPUS_OK else {
            throw EncoderError(code: error)
        }
        var lookahead: Int32 = 0
        _ = pbxd_opus_set_bitrate(encoder, Self.bitrate)
        _ = pbxd_opus_get_lookahead(encoder, &lookahead)
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = try? FileHandle(forWritingTo: URL(fileURLWithPath: path)) else {
            opus_encoder_destroy(encoder)
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        self.path = path
        self.handle = handle
        self.encoder = encoder
        self.serial = UInt32.random(in: 1...UInt32.max)
        self.preSkip = Int(lookahead) * Self.granuleScale
        do {
            try writePage([Self.opusHead(preSkip: preSkip)], granule: 0, flags: .beginningOfStream)
            try writePage([Self.opusTags()], granule: 0, flags: [])
        } catch {
            opus_encoder_destroy(encoder)
            throw error
        }
    }

    deinit {
        try? handle.close()
        opus_encoder_destroy(encoder)
    }

    /// RFC 7845 §5.1: version 1, one channel, pre-skip, input rate, gain 0, mapping family 0.
    static func opusHead(preSkip: Int) -> [UInt8] {
        Array("OpusHead".utf8) + [1, 1] + OggPage.littleEndian(UInt64(preSkip), bytes: 2)
            + OggPage.littleEndian(UInt64(sampleRate), bytes: 4) + [0, 0, 0]
    }

    /// RFC 7845 §5.2: the vendor string and no comments.
    static func opusTags() -> [UInt8] {
        let vendor = Array("pbxd".utf8)
        return Array("OpusTags".utf8) + OggPage.littleEndian(UInt64(vendor.count), bytes: 4) + vendor + [0, 0, 0, 0]
    }

    public func append(_ samples: some Collection<Int16>) throws {
        guard !closed else { return }
        pending += samples
        let whole = pending.count / Self.frameSamples * Self.frameSamples
        guard whole > 0 else { return }
        let packets = try encode(pending[..<whole])
        pending.removeFirst(whole)
        try writePackets(packets, endOfStream: false)
    }

    /// Drops the last `samples` samples at `close()` by the end-of-stream page's granule
    /// position (never before the last page already written).
    public func truncate(droppingLast samples: Int) throws {
        trim += max(0, samples)
    }

    /// Encodes what is left (padded to a whole frame) onto the end-of-stream page, then syncs
    /// and closes the file. Further appends are ignored.
    public func close() throws {
        guard !closed else { return }
        closed = true
        let real = encodedSamples + pending.count
        pending += [Int16](repeating: 0, count: Self.frameSamples - pending.count % Self.frameSamples)
        let packets = try encode(pending[...])
        pending.removeAll()
        try writePackets(packets, endOfStream: true, samples: max(0, real - trim))
        try handle.synchronize()
        try handle.close()
    }

    /// Samples recorded so far.
    public var sampleCount: Int { encodedSamples + pending.count }

    private func encode(_ samples: ArraySlice<Int16>) throws -> [[UInt8]] {
        var packets: [[UInt8]] = []
        var start = samples.startIndex
        while start < samples.endIndex {
            let frame = Array(samples[start..<start + Self.frameSamples])
            let length = opus_encode(encoder, frame, Int32(Self.frameSamples), &packet, Int32(packet.count))
            guard length > 0 else { throw EncoderError(code: length) }
            packets.append(Array(packet[..<Int(length)]))
            encodedSamples += Self.frameSamples
            start += Self.frameSamples
        }
        return packets
    }

    /// One or more pages (≤ 255 segments each); the last one's granule is `samples` (default:
    /// everything encoded) plus the pre-skip, in 48 kHz units.
    private func writePackets(_ packets: [[UInt8]], endOfStream: Bool, samples: Int? = nil) throws {
        var page: [[UInt8]] = []
        var segments = 0
        var granule = encodedSamples - packets.count * Self.frameSamples
        for (index, packet) in packets.enumerated() {
            if segments + OggPage.segmentCount(packet.count) > 255 {
                try writePage(page, granule: Int64(preSkip + granule * Self.granuleScale), flags: [])
                page.removeAll()
                segments = 0
            }
            page.append(packet)
            segments += OggPage.segmentCount(packet.count)
            granule += Self.frameSamples
            if index == packets.count - 1 {
                let last = samples.map { max($0, granule - Self.frameSamples * page.count) } ?? granule
                try writePage(page, granule: Int64(preSkip + last * Self.granuleScale), flags: endOfStream ? .endOfStream : [])
            }
        }
    }

    private func writePage(_ packets: [[UInt8]], granule: Int64, flags: OggPage.Flags) throws {
        try handle.write(contentsOf: OggPage.make(packets: packets, granule: granule, serial: serial, sequence: sequence, flags: flags))
        sequence += 1
    }
}
