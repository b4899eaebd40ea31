import NIOCore

/// Retransmits a 2xx to INVITE until its ACK arrives, RFC 3261 §13.3.1.4: the interval starts at
/// T1 and doubles up to T2; after 64·T1 without an ACK the UAS gives up and should end the dialog
/// with BYE. The server INVITE transaction does not do this (2xx leave it, §17.2.1 / RFC 6026);
/// ``TransactionLayer`` runs one of these per 2xx it sends for a TU.
///
/// RFC 3261 asks for this on every transport (a proxy on the path may forward over UDP), so it
/// runs on reliable transports too.
public struct InviteResponseRetransmitter: Sendable {
    public enum State: Sendable {
        case retransmitting(response: SIPResponse, interval: TimeAmount)
        case acknowledged
        case timedOut
    }

    public enum Action: Sendable {
        case send(SIPResponse)
        case startTimer(TransactionTimer, TimeAmount)
        /// 64·T1 passed without an ACK: the TU should send BYE (§13.3.1.4).
        case noAck(SIPResponse)
    }

    public private(set) var state: State
    public let timers: TransactionTimers

    /// `response` has already been sent once (by the server transaction).
    public init(response: SIPResponse, timers: TransactionTimers = .init()) {
        self.timers = timers
        self.state = .retransmitting(response: response, interval: timers.t1)
    }

    public var isFinished: Bool {
        if case .retransmitting = state { return false }
        return true
    }

    public func start() -> [Action] {
        guard case .retransmitting(_, let interval) = state else { return [] }
        return [.startTimer(.retransmit2xx, interval), .startTimer(.ackTimeout, timers.transactionTimeout)]
    }

    /// The TU sent a new 2xx for the same INVITE (e.g. a changed body); retransmit that one instead.
    public mutating func replaceResponse(_ response: SIPResponse) {
        guard case .retransmitting(_, let interval) = state else { return }
        state = .retransmitting(response: response, interval: interval)
    }

    public mutating func receiveAck() {
        if case .retransmitting = state { state = .acknowledged }
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [Action] {
        guard case .retransmitting(let response, let interval) = state else { return [] }
        switch timer {
        case .retransmit2xx:
            let next = interval.doubled(cappedAt: timers.t2)
            state = .retransmitting(response: response, interval: next)
            return [.send(response), .startTimer(.retransmit2xx, next)]
        case .ackTimeout:
            state = .timedOut
            return [.noAck(response)]
        default:
            return []
        }
    }
}
