import NIOCore
import SIPStack

/// Retransmits a 2xx to an INVITE until the ACK arrives (RFC 3261 §13.3.1.4): T1, doubling to
/// T2, giving up after 64·T1 and telling the owner (which then ends the call).
final class SuccessRetransmission {
    private let response: SIPResponse
    private let destination: SIPTransportAddress
    private unowned let driver: SIPChannelDriver
    private let onTimeout: () -> Void
    private var interval: TimeAmount
    private var elapsed: TimeAmount = .zero
    private var scheduled: Scheduled<Void>?
    private var stopped = false

    static let t1: TimeAmount = .milliseconds(500)
    static let t2: TimeAmount = .seconds(4)

    init(response: SIPResponse, destination: SIPTransportAddress, driver: SIPChannelDriver, onTimeout: @escaping () -> Void) {
        self.response = response
        self.destination = destination
        self.driver = driver
        self.onTimeout = onTimeout
        self.interval = Self.t1
        if destination.transport.isReliable {
            // Reliable transports carry the 2xx once, but the ACK deadline still applies.
            interval = Self.t1 * 64
        }
        schedule()
    }

    private func schedule() {
        scheduled = driver.eventLoop.scheduleTask(in: interval) { [weak self] in self?.fire() }
    }

    private func fire() {
        guard !stopped else { return }
        elapsed = elapsed + interval
        if elapsed >= Self.t1 * 64 {
            stopped = true
            onTimeout()
            return
        }
        if !destination.transport.isReliable { driver.transport.send(.response(response), to: destination) }
        interval = min(interval * 2, Self.t2)
        schedule()
    }

    func stop() {
        stopped = true
        scheduled?.cancel()
    }
}
