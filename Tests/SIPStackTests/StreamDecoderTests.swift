import NIOCore
import NIOEmbedded
import Testing
@testable import SIPStack

/// TCP framing, fed all at once and one byte at a time (STYLE.md §5).
@Suite struct StreamDecoderTests {
    static let wire: String = basicInvite.replacingOccurrences(of: "\n", with: "\r\n")

    func makeChannel(limits: SIPParserLimits = .default) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SIPStreamDecoder(limits: limits)))
        return channel
    }

    func frames(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let frame = try channel.readInbound(as: ByteBuffer.self) { out.append(String(buffer: frame)) }
        return out
    }

    /// Two messages with keep-alive CRLFs before, between and after them.
    static let stream = "\r\n\r\n" + wire + "\r\n" + wire.replacingOccurrences(of: "314159", with: "314160") + "\r\n\r\n"

    @Test func allAtOnce() throws {
        let channel = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: Self.stream))
        let got = try frames(channel)
        #expect(got == [Self.wire, Self.wire.replacingOccurrences(of: "314159", with: "314160")])
        for frame in got { _ = try SIPParser.parse(ByteBuffer(string: frame), framing: .stream) }
        // Two CRLFCRLF pings (before and after) were each answered with a CRLF pong.
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "\r\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "\r\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(try channel.finish().isClean)
    }

    @Test func byteByByte() throws {
        let channel = try makeChannel()
        var got: [String] = []
        for byte in Array(Self.stream.utf8) {
            var buffer = channel.allocator.buffer(capacity: 1)
            buffer.writeInteger(byte)
            try channel.writeInbound(buffer)
            got += try frames(channel)
        }
        #expect(got == [Self.wire, Self.wire.replacingOccurrences(of: "314159", with: "314160")])
        _ = try channel.finish()
    }

    @Test func everySplitPoint() throws {
        let bytes = Array(Self.stream.utf8)
        for split in stride(from: 1, to: bytes.count, by: 7) {
            let channel = try makeChannel()
            try channel.writeInbound(ByteBuffer(bytes: bytes[..<split]))
            try channel.writeInbound(ByteBuffer(bytes: bytes[split...]))
            #expect(try frames(channel).count == 2, "split at \(split)")
            _ = try channel.finish()
        }
    }

    @Test func missingContentLengthIsAFramingError() throws {
        let channel = try makeChannel()
        let noLength = Self.wire.replacingOccurrences(of: "Content-Length: 3\r\n", with: "")
        #expect(throws: SIPParseError.self) { try channel.writeInbound(ByteBuffer(string: noLength)) }
        _ = try? channel.finish()
    }

    @Test func unterminatedHeaderSectionIsBounded() throws {
        let channel = try makeChannel(limits: SIPParserLimits(maxMessageBytes: 1_000))
        var thrown: SIPParseError?
        for _ in 0..<100 {
            do {
                try channel.writeInbound(ByteBuffer(string: "X-Garbage: 0123456789\r\n"))
            } catch let error as SIPParseError {
                thrown = error
                break
            }
        }
        #expect(thrown?.statusCode == 513)
        _ = try? channel.finish()
    }

    @Test func oversizedDeclaredBodyIsRejectedEarly() throws {
        let channel = try makeChannel(limits: SIPParserLimits(maxMessageBytes: 1_000))
        let big = Self.wire.replacingOccurrences(of: "Content-Length: 3", with: "Content-Length: 5000")
        #expect(throws: SIPParseError.self) { try channel.writeInbound(ByteBuffer(string: big)) }
        _ = try? channel.finish()
    }

    /// Mutated corpus messages fed as a stream in random chunks: frames or errors, never a crash,
    /// and never more buffered than the limit allows.
    @Test func mutatedStreamsNeverCrash() throws {
        var rng = SplitMix64(seed: 0x7C9)
        let corpus = try Fixture.allRFC4475Names().map { try Fixture.rfc4475($0) }
        let limits = SIPParserLimits(maxMessageBytes: 4_096)
        var frames = 0, errors = 0
        for round in 0..<400 {
            var bytes = corpus[round % corpus.count] + corpus[(round * 7 + 3) % corpus.count]
            for _ in 0..<Int(rng.next() % 4) {
                let index = Int(rng.next() % UInt64(bytes.count))
                let replacements = Array("\r\n:0 9l".utf8)
                bytes[index] = replacements[Int(rng.next() % UInt64(replacements.count))]
            }
            let channel = try makeChannel(limits: limits)
            var offset = 0
            do {
                while offset < bytes.count {
                    let chunk = 1 + Int(rng.next() % 64)
                    try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<min(bytes.count, offset + chunk)]))
                    offset += chunk
                    while let frame = try channel.readInbound(as: ByteBuffer.self) {
                        #expect(frame.readableBytes <= limits.maxMessageBytes)
                        _ = try? SIPParser.parse(frame, limits: limits, framing: .stream)
                        frames += 1
                    }
                }
            } catch is SIPParseError {
                errors += 1
            }
            _ = try? channel.finish()
        }
        #expect(frames > 0 && errors > 0)
    }

    @Test func bodyArrivingLaterIsWaitedFor() throws {
        let channel = try makeChannel()
        let headerEnd = Self.wire.range(of: "\r\n\r\n")!.upperBound
        try channel.writeInbound(ByteBuffer(string: String(Self.wire[..<headerEnd])))
        #expect(try frames(channel).isEmpty)
        try channel.writeInbound(ByteBuffer(string: String(Self.wire[headerEnd...])))
        #expect(try frames(channel) == [Self.wire])
        _ = try channel.finish()
    }
}
