import Foundation

/// A recording file written as the call goes: PCM WAV (`WAVStreamWriter`) or, for names ending
/// in `.ogg`/`.opus`, Ogg/Opus (`OggOpusWriter`, long retention at a tenth of the size).
public protocol RecordingFileWriter: AnyObject {
    var path: String { get }
    /// Samples recorded so far.
    var sampleCount: Int { get }
    func append(_ samples: some Collection<Int16>) throws
    /// Drops the last `samples` samples (Record trims the silence that ended it).
    func truncate(droppingLast samples: Int) throws
    /// Syncs and closes the file; later appends are ignored.
    func close() throws
}

extension WAVStreamWriter: RecordingFileWriter {}

/// Picks the writer by the file name's extension.
public enum RecordingFormat {
    public static let opusExtensions: Set<String> = ["ogg", "opus"]

    public static func writer(path: String, sampleRate: Int) throws -> any RecordingFileWriter {
        if opusExtensions.contains((path as NSString).pathExtension.lowercased()), sampleRate == OggOpusWriter.sampleRate {
            return try OggOpusWriter(path: path)
        }
        return try WAVStreamWriter(path: path, sampleRate: sampleRate)
    }
}
