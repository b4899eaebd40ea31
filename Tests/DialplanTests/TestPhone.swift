import Foundation
import NIOCore
import NIOPosix
import SIPStack

/// A scripted SIP phone on a loopback UDP socket: sends message text, and hands back what it
/// receives, parsed, with bounded waits. Just enough UA for in-process call tests.
final class TestPhone: @unchecked Sendable {
    // @unchecked Sendable: `inbox` is only touched under `lock`; `channel` is a NIO Channel.
    private let lock = NSLock()
    private var inbox: [(text: String, message: SIPMessage)] = []
    private var channel: (any Channel)!
    private(set) var port = 0

    static func bind() async throws -> TestPhone {
        let phone = TestPhone()
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Receiver(phone: phone))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        phone.channel = channel
        phone.port = channel.localAddress?.port ?? 0
        return phone
    }

    private func received(_ bytes: [UInt8]) {
        guard let message = try? SIPParser.parse(bytes: bytes) else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        lock.withLock { inbox.append((text, message)) }
    }

    /// Sends `text` (lines joined with CRLF by the caller) to 127.0.0.1:`port`.
    func send(_ text: String, to port: Int) async throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let buffer = channel.allocator.buffer(string: text)
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer)).get()
    }

    /// The first message received (and not yet taken) that `matches`, waiting up to `timeout`.
    func receive(timeout: Duration = .seconds(5), _ matches: (SIPMessage) -> Bool) async throws -> (text: String, message: SIPMessage) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = take(matches) { return found }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw PhoneError.nothingReceived
    }

    private func take(_ matches: (SIPMessage) -> Bool) -> (text: String, message: SIPMessage)? {
        lock.withLock {
            guard let index = inbox.firstIndex(where: { matches($0.message) }) else { return nil }
            return inbox.remove(at: index)
        }
    }

    func close() async {
        try? await channel.close()
    }

    enum PhoneError: Error { case nothingReceived }

    private final class Receiver: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked Sendable: stateless apart from the phone, which locks itself.
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let phone: TestPhone
        init(phone: TestPhone) { self.phone = phone }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var envelope = unwrapInboundIn(data)
            phone.received(envelope.data.readBytes(length: envelope.data.readableBytes) ?? [])
        }
    }
}

/// SIP message text helpers for scripted phones.
enum SIPText {
    /// Header lines and a body, CRLF-terminated, with Content-Length.
    static func message(_ startLine: String, _ headers: [String], body: String = "") -> String {
        ([startLine] + headers + ["Content-Length: \(body.utf8.count)", ""]).joined(separator: "\r\n") + "\r\n" + body
    }

    /// A response to a received request: its Via, From, To (with `toTag` added when it has
    /// none), Call-ID and CSeq lines copied as they came.
    static func response(to requestText: String, _ status: String, toTag: String, headers: [String] = [], body: String = "") -> String {
        var copied: [String] = []
        for line in requestText.components(separatedBy: "\r\n") {
            if line.isEmpty { break }
            let name = line.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
            switch name {
            case "via", "v", "from", "f", "call-id", "i", "cseq":
                copied.append(line)
            case "to", "t":
                copied.append(line.contains(";tag=") ? line : line + ";tag=\(toTag)")
            default:
                continue
            }
        }
        return message("SIP/2.0 \(status)", copied + headers, body: body)
    }

    /// An audio offer/answer from `rtpPort` (PCMU and telephone-event 101).
    static func sdp(rtpPort: Int, direction: String = "sendrecv") -> String {
        [
            "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
            "m=audio \(rtpPort) RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-16", "a=\(direction)", "",
        ].joined(separator: "\r\n")
    }
}

extension SIPMessage {
    var request: SIPRequest? { if case .request(let request) = self { request } else { nil } }
    var response: SIPResponse? { if case .response(let response) = self { response } else { nil } }
}
