import Foundation

/// A sound file found on disk: its path and the format its extension names.
public struct SoundFile: Hashable, Sendable, CustomStringConvertible {
    /// Full path, extension included.
    public var path: String
    public var format: AudioFileFormat

    /// Prompts larger than this are refused rather than loaded into memory (about 35 minutes of
    /// 16 kHz WAV; a prompt or a music-on-hold file is far smaller).
    public static let maximumFileSize = 64 << 20

    public init(path: String, format: AudioFileFormat) {
        self.path = path
        self.format = format
    }

    /// Reads and parses the whole file. Blocking file I/O: call it from a channel's task when a
    /// playback starts, never on an event loop.
    public func read() throws(SoundFileError) -> SoundData {
        let bytes: [UInt8]
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: self.path)
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            guard size <= Self.maximumFileSize else {
                throw SoundFileError.tooLarge(bytes: size, limit: Self.maximumFileSize)
            }
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: self.path)))
        } catch let error as SoundFileError {
            throw error
        } catch {
            throw .unreadable(path: self.path, reason: String(describing: error))
        }
        return try SoundData(parsing: bytes, format: self.format)
    }

    public var description: String { self.path }
}
