import NIOCore

/// The timer values of RFC 3261 §17.1.1.1 and Table 4 (Appendix A). Defaults are the RFC's;
/// tests and LAN deployments may shorten them. Every transaction timer is derived from these, so
/// the state machines never read a clock (STYLE.md §4): they return "start timer X after d" and
/// the ``TransactionLayer`` schedules it on its event loop.
public struct TransactionTimers: Sendable, Hashable {
    /// RTT estimate, 500 ms by default: the first retransmission interval (timers A, E, G).
    public var t1: TimeAmount
    /// Maximum retransmission interval for non-INVITE requests and INVITE responses, 4 s.
    public var t2: TimeAmount
    /// Maximum time a message stays in the network, 5 s (timers I and K on unreliable transports).
    public var t4: TimeAmount
    /// Timer D: wait for response retransmissions after a non-2xx final (≥ 32 s on UDP).
    public var d: TimeAmount

    public init(
        t1: TimeAmount = .milliseconds(500), t2: TimeAmount = .seconds(4), t4: TimeAmount = .seconds(5),
        d: TimeAmount = .seconds(32)
    ) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
        self.d = d
    }

    /// 64·T1: timers B, F, H, J and L, and the 2xx give-up interval (§13.3.1.4).
    public var transactionTimeout: TimeAmount { .nanoseconds(t1.nanoseconds * 64) }

    /// Timer D: `d` on unreliable transports, zero on reliable ones (§17.1.1.2).
    public func timerD(reliable: Bool) -> TimeAmount { reliable ? .zero : d }
    /// Timers I and K: T4 on unreliable transports, zero on reliable ones (§17.1.2.2, §17.2.1).
    public func timerT4(reliable: Bool) -> TimeAmount { reliable ? .zero : t4 }
    /// Timer J: 64·T1 on unreliable transports, zero on reliable ones (§17.2.2).
    public func timerJ(reliable: Bool) -> TimeAmount { reliable ? .zero : transactionTimeout }
}

/// Names of the timers a transaction can ask for. The letters are RFC 3261 §17 (and RFC 6026 §7.1
/// for L); the last three are pbxd's names for timers the RFC describes without naming.
public enum TransactionTimer: Hashable, Sendable {
    case a, b, d, e, f, k, g, h, i, j, l
    /// §9.1: after sending CANCEL, give the INVITE 64·T1 to reach a final response.
    case cancelGuard
    /// §13.3.1.4: next retransmission of a 2xx to INVITE.
    case retransmit2xx
    /// §13.3.1.4: stop retransmitting the 2xx after 64·T1 without an ACK.
    case ackTimeout
}

extension TimeAmount {
    /// Doubles an interval, capped (the back-off of timers A without a cap, E and G with T2).
    func doubled(cappedAt cap: TimeAmount? = nil) -> TimeAmount {
        let next = TimeAmount.nanoseconds(nanoseconds * 2)
        guard let cap else { return next }
        return next > cap ? cap : next
    }
}
