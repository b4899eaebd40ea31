import Logging
import NIOCore
import SIPStack

/// How a peer answered its last `qualify` ping (chan_sip's `sip show peers` Status column).
public enum PeerReachability: Sendable, Hashable, CustomStringConvertible {
    case unmonitored
    case unknown
    case reachable(milliseconds: Int)
    case lagged(milliseconds: Int)
    case unreachable

    public var description: String {
        switch self {
        case .unmonitored: "Unmonitored"
        case .unknown: "UNKNOWN"
        case .reachable(let ms): "OK (\(ms) ms)"
        case .lagged(let ms): "LAGGED (\(ms) ms)"
        case .unreachable: "UNREACHABLE"
        }
    }
}

/// `qualify=yes|ms`: pings each reachable peer with OPTIONS every `qualifyfreq` seconds and
/// classifies it by round-trip time. Any response counts as alive (a phone may answer 404 or
/// 401 to OPTIONS); no answer within twice the allowed time marks it unreachable, as chan_sip's
/// `sip_poke_noanswer` does. Confined to the SIP event loop.
public final class QualifyService: @unchecked Sendable {
    // @unchecked Sendable: `states` and `task` are touched only on the driver's event loop.

    private struct PeerState {
        var reachability: PeerReachability = .unknown
        var nextPing: NIODeadline
        var inFlight = false
        var pingID = 0
    }

    private let driver: SIPChannelDriver
    private let peers: [SIPPeer]
    private let logger: Logger
    private var states: [String: PeerState] = [:]
    private var task: RepeatedTask?
    /// Told when a peer's reachability changes (PeerStatus events later).
    public var onChange: (@Sendable (_ peer: String, _ reachability: PeerReachability) -> Void)?

    public init(driver: SIPChannelDriver, peers: [SIPPeer], logger: Logger) {
        self.driver = driver
        self.peers = peers.filter { if case .on = $0.qualify { true } else { false } }
        self.logger = logger
    }

    public func start() {
        task = driver.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.pingDuePeers()
        }
    }

    public func stop() { task?.cancel() }

    /// The last known state of a peer.
    public func reachability(of peer: String) -> PeerReachability {
        guard peers.contains(where: { $0.name == peer }) else { return .unmonitored }
        return states[peer]?.reachability ?? .unknown
    }

    private func pingDuePeers() {
        let now = NIODeadline.now()
        for peer in peers {
            var state = states[peer.name] ?? PeerState(nextPing: now)
            guard !state.inFlight, state.nextPing <= now, let target = driver.contactTarget(for: peer) else { continue }
            state.inFlight = true
            state.pingID += 1
            state.nextPing = now + .seconds(Int64(max(peer.qualifyFrequency, 1)))
            states[peer.name] = state
            ping(peer, at: target, id: state.pingID)
        }
    }

    private func ping(_ peer: SIPPeer, at target: (uri: SIPURI, address: SIPTransportAddress), id: Int) {
        let host = driver.localHost(toward: target.address)
        var from = NameAddress(uri: SIPURI(user: "pbxd", host: host))
        from.tag = SIPTokens.tag()
        var headers = SIPHeaders(
            vias: [driver.makeVia(for: target.address)], from: from, to: NameAddress(uri: target.uri),
            callID: SIPTokens.callID(host: host), cseq: CSeq(number: 1, method: .options), maxForwards: 70)
        headers.add("User-Agent", driver.userAgent)
        let request = SIPRequest(method: .options, uri: target.uri, headers: headers)
        let sent = NIODeadline.now()
        guard case .on(let maxMilliseconds) = peer.qualify else { return }
        driver.eventLoop.scheduleTask(in: .milliseconds(Int64(maxMilliseconds) * 2)) { [weak self] in
            guard let self, let state = self.states[peer.name], state.inFlight, state.pingID == id else { return }
            self.update(peer.name, .unreachable)
        }
        driver.transactions.sendRequest(request, to: target.address) { [weak self] event in
            guard let self else { return }
            switch event {
            case .provisional:
                return
            case .final:
                guard self.states[peer.name]?.pingID == id else { return }
                let ms = Int((NIODeadline.now() - sent).nanoseconds / 1_000_000)
                self.update(peer.name, ms <= maxMilliseconds ? .reachable(milliseconds: ms) : .lagged(milliseconds: ms))
            case .timeout, .transportError:
                if self.states[peer.name]?.pingID == id { self.update(peer.name, .unreachable) }
            }
        }
    }

    private func update(_ peer: String, _ reachability: PeerReachability) {
        var state = states[peer] ?? PeerState(nextPing: .now())
        state.inFlight = false
        let changedKind = Self.kind(state.reachability) != Self.kind(reachability)
        state.reachability = reachability
        states[peer] = state
        if changedKind {
            logger.info("peer is now \(reachability)", metadata: ["peer": "\(peer)"])
            if let status = Self.peerStatus(reachability) { driver.events.publish(.peerStatus(peer: peer, status)) }
            onChange?(peer, reachability)
        }
    }

    /// chan_sip's PeerStatus for a qualify result (`Time: -1` when unreachable).
    static func peerStatus(_ reachability: PeerReachability) -> PeerStatusChange? {
        switch reachability {
        case .unmonitored, .unknown: nil
        case .reachable(let ms): .reachable(milliseconds: ms)
        case .lagged(let ms): .lagged(milliseconds: ms)
        case .unreachable: .unreachable(milliseconds: -1)
        }
    }

    private static func kind(_ r: PeerReachability) -> Int {
        switch r {
        case .unmonitored: 0
        case .unknown: 1
        case .reachable: 2
        case .lagged: 3
        case .unreachable: 4
        }
    }
}
