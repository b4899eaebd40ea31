import NIOCore
import NIOEmbedded
@testable import SIPStack

/// Builders and fakes shared by the Transaction*Tests files: messages are made with the model's
/// initialisers (no parser), the transport is a closure that records what was sent and when.
enum TxnFixture {
    static let phone = SIPTransportAddress(transport: .udp, address: try! SocketAddress(ipAddress: "192.0.2.10", port: 5062))
    static let phoneTCP = SIPTransportAddress(transport: .tcp, address: try! SocketAddress(ipAddress: "192.0.2.10", port: 5062))
    static let trunk = SIPTransportAddress(transport: .udp, address: try! SocketAddress(ipAddress: "198.51.100.20", port: 5060))

    static func request(
        _ method: SIPMethod, branch: String? = "z9hG4bKinv001", viaHost: String = "192.0.2.10", viaPort: Int? = 5062,
        viaTransport: String = "UDP", callID: String = "call-1@192.0.2.10", cseq: UInt32 = 1, cseqMethod: SIPMethod? = nil,
        fromTag: String? = "from1", toTag: String? = nil, uriUser: String = "1002"
    ) -> SIPRequest {
        var viaParameters = SIPParameters()
        if let branch { viaParameters["branch"] = branch }
        var from = NameAddress(uri: SIPURI(user: "1001", host: "pbx.example"))
        from.tag = fromTag
        var to = NameAddress(uri: SIPURI(user: uriUser, host: "pbx.example"))
        to.tag = toTag
        let headers = SIPHeaders(
            vias: [Via(transport: viaTransport, host: viaHost, port: viaPort, parameters: viaParameters)],
            from: from, to: to, callID: callID, cseq: CSeq(number: cseq, method: cseqMethod ?? method), maxForwards: 70
        )
        return SIPRequest(method: method, uri: SIPURI(user: uriUser, host: "pbx.example"), headers: headers)
    }

    /// A response to `request` as the peer would send it.
    static func response(_ statusCode: Int, to request: SIPRequest, toTag: String? = "callee1") -> SIPResponse {
        SIPResponse(replyingTo: request, statusCode: statusCode, toTag: toTag)
    }
}

/// What the fake transport saw.
final class SentLog {
    struct Entry {
        let message: SIPMessage
        let destination: SIPTransportAddress
        /// Milliseconds since the harness started.
        let atMilliseconds: Int64
    }
    var entries: [Entry] = []

    var requests: [SIPRequest] {
        entries.compactMap { if case .request(let r) = $0.message { r } else { nil } }
    }
    var responses: [SIPResponse] {
        entries.compactMap { if case .response(let r) = $0.message { r } else { nil } }
    }
    var times: [Int64] { entries.map(\.atMilliseconds) }
}

/// A TU that records every callback and can answer requests from inside them.
final class RecordingUser: TransactionUser {
    var requests: [(request: SIPRequest, source: SIPTransportAddress, handle: ServerTransactionHandle)] = []
    var cancels: [(cancel: SIPRequest, invite: ServerTransactionHandle)] = []
    var acks: [SIPRequest] = []
    var strays: [SIPResponse] = []
    var noAcks: [(response: SIPResponse, handle: ServerTransactionHandle)] = []
    /// Called from `didReceiveRequest`, to test re-entrant responses.
    var onRequest: ((SIPRequest, ServerTransactionHandle) -> Void)?

    func didReceiveRequest(_ request: SIPRequest, from source: SIPTransportAddress, transaction: ServerTransactionHandle) {
        requests.append((request, source, transaction))
        onRequest?(request, transaction)
    }
    func didReceiveCancel(_ cancel: SIPRequest, from source: SIPTransportAddress, inviteTransaction: ServerTransactionHandle) {
        cancels.append((cancel, inviteTransaction))
    }
    func didReceiveAck(_ ack: SIPRequest, from source: SIPTransportAddress) { acks.append(ack) }
    func didReceiveStrayResponse(_ response: SIPResponse, from source: SIPTransportAddress) { strays.append(response) }
    func didNotReceiveAck(for response: SIPResponse, transaction: ServerTransactionHandle) {
        noAcks.append((response, transaction))
    }
}

/// Records client transaction events.
final class EventLog {
    var events: [ClientTransactionEvent] = []
    var handler: (ClientTransactionEvent) -> Void { { self.events.append($0) } }
    var statusCodes: [Int] { events.map(\.statusCode) }
    var finals: Int { events.filter { if case .provisional = $0 { false } else { true } }.count }
}

/// A layer on an `EmbeddedEventLoop` with a recording transport and TU. Create it inside the
/// test (EmbeddedEventLoop must be used from the thread that made it).
final class TxnHarness {
    let loop: EmbeddedEventLoop
    let sent = SentLog()
    let user = RecordingUser()
    let layer: TransactionLayer

    init(timers: TransactionTimers = .init()) {
        let loop = EmbeddedEventLoop()
        let sent = self.sent
        let start = loop.now
        self.loop = loop
        self.layer = TransactionLayer(
            eventLoop: loop, timers: timers,
            transport: { message, destination in
                sent.entries.append(.init(message: message, destination: destination, atMilliseconds: (loop.now - start).nanoseconds / 1_000_000))
            },
            user: user
        )
    }

    func advance(milliseconds: Int64) { loop.advanceTime(by: .milliseconds(milliseconds)) }
    func advance(seconds: Int64) { loop.advanceTime(by: .seconds(seconds)) }

    func receive(_ request: SIPRequest, from source: SIPTransportAddress = TxnFixture.phone) {
        layer.receive(.request(request), from: source)
    }
    func receive(_ response: SIPResponse, from source: SIPTransportAddress = TxnFixture.trunk) {
        layer.receive(.response(response), from: source)
    }
}
