import NIOCore
import SIPStack

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `pbxd-bench parser [--iterations N]`: parses a Linphone-style INVITE with SDP (the message
/// every call starts with) N times on the calling thread and prints messages/s and ns/message.
func runParserBench(arguments: [String]) {
    var iterations = 1_000_000
    if let index = arguments.firstIndex(of: "--iterations"), index + 1 < arguments.count, let n = Int(arguments[index + 1]) {
        iterations = n
    }
    let buffer = ByteBuffer(string: benchInvite)
    // Warm up and check the message parses at all.
    var checksum = 0
    for _ in 0..<10_000 { checksum &+= parseOnce(buffer) }
    let start = monotonicNanoseconds()
    for _ in 0..<iterations { checksum &+= parseOnce(buffer) }
    let elapsed = monotonicNanoseconds() - start
    let perMessage = Double(elapsed) / Double(iterations)
    print("command: \(CommandLine.arguments.joined(separator: " "))")
    print("message: INVITE with SDP, \(buffer.readableBytes) bytes, \(iterations) iterations, 1 thread")
    print("parser: \(Int(1e9 / perMessage)) messages/s, \(Int(perMessage)) ns/message (checksum \(checksum))")
}

@inline(never)
private func parseOnce(_ buffer: ByteBuffer) -> Int {
    do {
        // Read fields in place: `SIPMessage.headers` would copy the whole header struct.
        switch try SIPParser.parse(buffer) {
        case .request(let request): return request.headers.vias.count + request.headers.other.count
        case .response(let response): return response.headers.vias.count
        }
    } catch {
        fatalError("benchmark message failed to parse: \(error)")
    }
}

private func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Headers as Linphone 5 sends them for an outgoing call through a proxy.
private let benchInvite: String = [
    "INVITE sip:1002@pbx.example.com SIP/2.0",
    "Via: SIP/2.0/UDP 192.168.1.34:5060;branch=z9hG4bK.hkHLjKQ9s;rport",
    "From: \"Agent 1001\" <sip:1001@pbx.example.com>;tag=8sTw~N9fS",
    "To: <sip:1002@pbx.example.com>",
    "CSeq: 20 INVITE",
    "Call-ID: 3nA7pWqBzX",
    "Max-Forwards: 70",
    "Supported: replaces, outbound, gruu, path, record-aware",
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, PRACK, UPDATE",
    "Content-Type: application/sdp",
    "Content-Length: 241",
    "Contact: <sip:1001@192.168.1.34:5060;transport=udp>;expires=3600;+sip.instance=\"<urn:uuid:6a1f6f3e-3b7c-00a2-b0d1-4c2f1a9e7d55>\"",
    "User-Agent: Linphone-Desktop/5.2.6 (agent-pc) ubuntu/22.04 Qt/5.15.3 LinphoneSDK/5.3.72",
    "",
    "v=0",
    "o=1001 3141 2718 IN IP4 192.168.1.34",
    "s=Talk",
    "c=IN IP4 192.168.1.34",
    "t=0 0",
    "a=record:off",
    "m=audio 7078 RTP/AVP 96 0 8 18 101",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 useinbandfec=1",
    "a=rtpmap:101 telephone-event/48000",
    "a=fmtp:18 annexb=yes",
    "",
].joined(separator: "\r\n")
