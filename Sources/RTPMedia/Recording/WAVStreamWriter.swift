import Foundation

/// Writes an 8 kHz 16-bit mono PCM WAV file incrementally (Record's format): the 44-byte header
/// first, with sizes for an empty file, then samples as they come. After every `append` the
/// RIFF and data sizes in the header are rewritten, so whatever has been written so far is a
/// playable file even if pbxd dies before `close()`.
///
/// Blocking file I/O: use it off the event loops (`RecordingSink` gives it its own queue).
public final class WAVStreamWriter {
    public static let headerSize = 44
    public let path: String
    public let sampleRate: Int
    private let handle: FileHandle
    /// Sample bytes written after the header.
    public private(set) var dataBytes: Int = 0
    private var closed = false
    /// Reused for each append (little-endian bytes of the samples).
    private var scratch: [UInt8] = []

    /// Creates (or truncates) `path` and writes the header.
    public init(path: String, sampleRate: Int = 8000) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        self.path = path
        self.sampleRate = sampleRate
        self.handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try self.handle.write(contentsOf: Self.header(sampleRate: sampleRate, dataBytes: 0))
    }

    deinit { try? self.handle.close() }

    /// The canonical header for `dataBytes` of 16-bit mono samples.
    public static func header(sampleRate: Int, dataBytes: Int) -> [UInt8] {
        var h: [UInt8] = []
        h.reserveCapacity(headerSize)
        func u32(_ v: Int) { for i in 0..<4 { h.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        func u16(_ v: Int) { for i in 0..<2 { h.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        h += Array("RIFF".utf8); u32(36 + dataBytes); h += Array("WAVE".utf8)
        h += Array("fmt ".utf8); u32(16); u16(1); u16(1); u32(sampleRate); u32(sampleRate * 2); u16(2); u16(16)
        h += Array("data".utf8); u32(dataBytes)
        return h
    }

    /// Appends samples at the end and updates the header's sizes.
    public func append(_ samples: some Collection<Int16>) throws {
        guard !self.closed, !samples.isEmpty else { return }
        self.scratch.removeAll(keepingCapacity: true)
        for s in samples {
            let u = UInt16(bitPattern: s)
            self.scratch.append(UInt8(truncatingIfNeeded: u))
            self.scratch.append(UInt8(truncatingIfNeeded: u >> 8))
        }
        try self.handle.seek(toOffset: UInt64(Self.headerSize + self.dataBytes))
        try self.handle.write(contentsOf: self.scratch)
        self.dataBytes += self.scratch.count
        try self.writeSizes()
    }

    /// Rewrites the RIFF size (offset 4) and the data size (offset 40).
    private func writeSizes() throws {
        func le(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        try self.handle.seek(toOffset: 4)
        try self.handle.write(contentsOf: le(36 + self.dataBytes))
        try self.handle.seek(toOffset: 40)
        try self.handle.write(contentsOf: le(self.dataBytes))
    }

    /// Drops the last `samples` samples (Record trims the silence that ended it).
    public func truncate(droppingLast samples: Int) throws {
        guard !self.closed, samples > 0 else { return }
        self.dataBytes = max(0, self.dataBytes - 2 * samples)
        try self.handle.truncate(atOffset: UInt64(Self.headerSize + self.dataBytes))
        try self.writeSizes()
    }

    /// Syncs and closes the file. Further appends are ignored.
    public func close() throws {
        guard !self.closed else { return }
        self.closed = true
        try self.handle.synchronize()
        try self.handle.close()
    }

    /// Samples recorded so far.
    public var sampleCount: Int { self.dataBytes / 2 }
}
