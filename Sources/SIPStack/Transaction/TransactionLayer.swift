import NIOCore

/// The transaction layer, RFC 3261 §17: owns the client and server transaction tables, matches
/// incoming messages to them (§17.1.3, §17.2.3), drives the four state machines and schedules
/// their timers on one event loop.
///
/// Loop-confined: every method must be called on `eventLoop` (asserted in debug builds), and the
/// TU, the transport closure and response callbacks are all called on it. Timers are
/// `scheduleTask(in:)` on that loop, so tests drive them with `EmbeddedEventLoop.advanceTime(by:)`.
///
/// Where responses go: a server transaction remembers the transport address the request came
/// from and sends every response there. That is RFC 3581 (`rport`) behaviour, and it is also what
/// phones behind NAT need when they do not ask for `rport`; the stricter §18.2.2 rule (the Via's
/// `received` address with the sent-by port) breaks them and gains nothing for a PBX that talks
/// to its own phones. The top Via of each request is still stamped with `received`/`rport`
/// (§18.2.1, RFC 3581 §4) so responses show what the server saw.
///
/// Table hygiene: transactions leave the tables when their state machine terminates, with their
/// timers cancelled. RFC 3261 gives a server transaction no timer before the TU's final response,
/// so the TU must answer every request it is given (pbxd answers or 487s every INVITE).
///
/// Not `Sendable`: hold it where the loop is the owner (a channel handler, or `NIOLoopBound`).
public final class TransactionLayer {
    public let eventLoop: any EventLoop
    public let timers: TransactionTimers
    /// Called on the loop with each message to send. Report failures with ``transportFailed(to:)``.
    let transport: (SIPMessage, SIPTransportAddress) -> Void
    /// Weak, because the TU usually owns the layer.
    public weak var user: (any TransactionUser)?

    var serverTransactions: [TransactionKey: ServerEntry] = [:]
    var clientTransactions: [ClientTransactionKey: ClientEntry] = [:]
    var okRetransmitters: [AckKey: RetransmitterEntry] = [:]
    /// Every transaction timer lives here: O(1) to set and to cancel (see `TimerWheel`). The
    /// transaction user may put its own call timers (ring timeouts) on it too.
    public let wheel: TimerWheel
    private var lastID: UInt64 = 0

    public init(
        eventLoop: any EventLoop, timers: TransactionTimers = .init(),
        transport: @escaping (SIPMessage, SIPTransportAddress) -> Void, user: (any TransactionUser)? = nil
    ) {
        self.eventLoop = eventLoop
        self.timers = timers
        self.transport = transport
        self.user = user
        self.wheel = TimerWheel(eventLoop: eventLoop)
    }

    deinit {
        wheel.stop()
    }

    /// Live server transactions.
    public var serverTransactionCount: Int { serverTransactions.count }
    /// Live client transactions.
    public var clientTransactionCount: Int { clientTransactions.count }
    /// 2xx responses still being retransmitted while waiting for their ACK.
    public var pendingAckCount: Int { okRetransmitters.count }
    /// Everything the layer holds; 0 when idle.
    public var count: Int { serverTransactionCount + clientTransactionCount + pendingAckCount }

    func nextID() -> UInt64 {
        lastID &+= 1
        return lastID
    }

    // MARK: - Input from the transport

    /// A message from the transport: responses go to client transactions, requests to server
    /// transactions (new ones are created; retransmissions are absorbed and answered there).
    public func receive(_ message: SIPMessage, from source: SIPTransportAddress) {
        eventLoop.assertInEventLoop()
        switch message {
        case .request(let request): receiveRequest(request, from: source)
        case .response(let response): receiveResponse(response, from: source)
        }
    }

    /// The transport could not reach `destination` (ICMP unreachable, TCP connect failure or
    /// reset): every transaction talking to it ends, and client TUs get `.transportError`
    /// (§17.1.4, §17.2.4).
    public func transportFailed(to destination: SIPTransportAddress) {
        eventLoop.assertInEventLoop()
        for (key, entry) in clientTransactions where entry.destination == destination {
            updateClient(key, id: entry.id) { $0.transportFailed() }
        }
        for (key, entry) in serverTransactions where entry.source == destination {
            updateServer(key, id: entry.id) { $0.transportFailed() }
        }
    }

    // MARK: - Timers

    /// Schedules `timer` on the loop, replacing an earlier one of the same name. `fire` runs on the
    /// loop unless cancelled first.
    func schedule(_ timer: TransactionTimer, in delay: TimeAmount, fire: @escaping (TransactionLayer) -> Void) -> TimerWheel.Token {
        wheel.schedule(in: delay) { [weak self] in
            if let self { fire(self) }
        }
    }
}

/// Matches an ACK for a 2xx to the 2xx being retransmitted: the ACK has a new branch
/// (§13.2.2.4), so it is found by dialog identifiers plus the CSeq number instead.
struct AckKey: Hashable {
    let callID: String
    let cseq: UInt32
    let fromTag: String?
    let toTag: String?

    init(_ headers: SIPHeaders) {
        callID = headers.callID
        cseq = headers.cseq.number
        fromTag = headers.from.tag
        toTag = headers.to.tag
    }
}

/// Timers held per table entry, cancelled when the entry goes.
protocol HasScheduledTimers {
    var scheduled: [TransactionTimer: TimerWheel.Token] { get }
}

extension HasScheduledTimers {
    func cancelTimers(on wheel: TimerWheel) {
        for token in scheduled.values { wheel.cancel(token) }
    }
}
