import Foundation
@testable import RTPMedia

/// Helpers for the Sound* tests: temporary sound directories, synthetic signals, tone measurement.
enum SoundTestSupport {
    /// A fresh empty directory under the system temp dir; removed by `removeTemporaryDirectory`.
    static func makeTemporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "pbxd-sounds-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func removeTemporaryDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `bytes` at `root/relative`, creating directories.
    static func write(_ bytes: [UInt8], to relative: String, in root: String) throws {
        let url = URL(fileURLWithPath: root).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// `count` samples of a sine at `frequency` Hz sampled at `rate`, peak `amplitude`.
    static func sine(frequency: Double, rate: Int, count: Int, amplitude: Double = 16000) -> [Int16] {
        (0 ..< count).map { n in
            Int16(amplitude * sin(2 * Double.pi * frequency * Double(n) / Double(rate)))
        }
    }

    /// Signal power at `frequency` (Goertzel), normalised so a full-length sine of peak A gives
    /// about A²/4 whatever the length.
    static func goertzelPower(_ samples: [Int16], frequency: Double, rate: Int) -> Double {
        let w = 2 * Double.pi * frequency / Double(rate)
        let coefficient = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0
        for x in samples {
            let s0 = Double(x) + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
        let n = Double(samples.count)
        return power / (n * n)
    }

    /// The repository root, found from this file's path (Tests/RTPMediaTests/<file>).
    static let repositoryRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// A WAV built chunk by chunk, for malformed and unusual files.
    static func riff(formType: String = "WAVE", _ chunks: [(String, [UInt8])]) -> [UInt8] {
        var body: [UInt8] = Array(formType.utf8)
        for (id, payload) in chunks {
            body += Array(id.utf8)
            body += le32(payload.count)
            body += payload
            if payload.count % 2 == 1 { body.append(0) }
        }
        return Array("RIFF".utf8) + le32(body.count) + body
    }

    /// A `fmt ` payload (16 bytes, or more when `extra` is given).
    static func fmt(tag: Int = 1, channels: Int = 1, rate: Int = 8000, bits: Int = 16,
                    blockAlign: Int? = nil, extra: [UInt8] = []) -> [UInt8] {
        let align = blockAlign ?? channels * bits / 8
        return le16(tag) + le16(channels) + le32(rate) + le32(rate * align) + le16(align) + le16(bits) + extra
    }

    static func pcm(_ samples: [Int16]) -> [UInt8] {
        samples.flatMap { le16(Int(UInt16(bitPattern: $0))) }
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    static func le32(_ v: Int) -> [UInt8] { (0 ..< 4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
}
