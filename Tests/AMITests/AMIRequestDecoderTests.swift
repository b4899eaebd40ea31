import NIOCore
import NIOEmbedded
import PBXCore
import Testing

@testable import AMI

/// The request framing (ami.md §3), fed through a real pipeline without sockets.
@Suite struct AMIRequestDecoderTests {
    func channel(_ limits: AMIWireLimits = AMIWireLimits()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AMIRequestDecoder(limits: limits)))
        return channel
    }

    func decoded(_ channel: EmbeddedChannel) throws -> [AMIInbound] {
        var out: [AMIInbound] = []
        while let item = try channel.readInbound(as: AMIInbound.self) { out.append(item) }
        return out
    }

    @Test func crlfRequestsInOneChunk() throws {
        let channel = try channel()
        try channel.writeInbound(ByteBuffer(string: "Action: Ping\r\nActionID: 1\r\n\r\nAction: Logoff\r\n\r\n"))
        #expect(try decoded(channel) == [
            .request([.init("Action", "Ping"), .init("ActionID", "1")]),
            .request([.init("Action", "Logoff")]),
        ])
    }

    @Test func byteByByteWithBareLFAndBlankLinesBetweenRequests() throws {
        let channel = try channel()
        for byte in "\r\n\nAction: Ping\nActionID:   lf-1 \n\n".utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        // Leading blanks of a value are skipped, trailing ones kept (Asterisk's astman_get_header).
        #expect(try decoded(channel) == [.request([.init("Action", "Ping"), .init("ActionID", "lf-1 ")])])
    }

    @Test func lineWithoutColonIsKeptWithEmptyValue() throws {
        let channel = try channel()
        try channel.writeInbound(ByteBuffer(string: "garbage line\r\n\r\n"))
        #expect(try decoded(channel) == [.request([.init("garbage line", "")])])
    }

    @Test func overlongLineIsReportedOnceAndNothingMoreIsRead() throws {
        let channel = try channel(AMIWireLimits(maxLineLength: 16))
        try channel.writeInbound(ByteBuffer(string: "Action: " + String(repeating: "x", count: 20) + "\r\n\r\nAction: Ping\r\n\r\n"))
        #expect(try decoded(channel) == [.lineTooLong])
    }

    @Test func overlongLineWithoutTerminatorIsCaughtBeforeItEnds() throws {
        let channel = try channel(AMIWireLimits(maxLineLength: 16))
        try channel.writeInbound(ByteBuffer(string: String(repeating: "y", count: 40)))
        #expect(try decoded(channel) == [.lineTooLong])
    }

    @Test func tooManyHeaderLines() throws {
        let channel = try channel(AMIWireLimits(maxHeaderLines: 3))
        try channel.writeInbound(ByteBuffer(string: "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"))
        #expect(try decoded(channel) == [.tooManyLines])
    }

    @Test func invalidUTF8IsReplacedNotFatal() throws {
        let channel = try channel()
        try channel.writeInbound(ByteBuffer(bytes: Array("Action: P".utf8) + [0xFF, 0xFE] + Array("\r\n\r\n".utf8)))
        let items = try decoded(channel)
        #expect(items.count == 1)
        guard case .request(let headers) = items.first else { Issue.record("expected a request"); return }
        #expect(headers.first?.key == "Action")
    }
}

@Suite struct EventTextCacheTests {
    @Test func sameEventReusedDifferentEventsNeverConfused() {
        let cache = EventTextCache()
        let a = ManagerEvent(name: "Newchannel", class: .call, fields: [.init("Channel", "SIP/1-1")], timestamp: 10)
        let b = ManagerEvent(name: "Newchannel", class: .call, fields: [.init("Channel", "SIP/2-2")], timestamp: 10)
        #expect(cache.text(for: a, timestamp: false) == AMIMessage.event(a, timestamp: false).text)
        #expect(cache.text(for: b, timestamp: false).contains("SIP/2-2"))
        #expect(cache.text(for: a, timestamp: false).contains("SIP/1-1"))
        #expect(cache.text(for: a, timestamp: true).contains("Timestamp: 10.000000"))
    }
}
