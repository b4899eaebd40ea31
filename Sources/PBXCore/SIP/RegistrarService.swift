import Dispatch
import Foundation
import Logging
import NIOCore
import SIPStack

/// REGISTER handling (RFC 3261 §10.3) for sip.conf peers: authenticate, update the location
/// service, persist it so registrations survive a restart, and expire stale bindings.
/// State is confined to the SIP event loop; the file is written on a background queue from a
/// snapshot, so a slow disk never stalls signalling.
public final class RegistrarService: @unchecked Sendable {
    // @unchecked Sendable: `registrar` and `expiryTask` are touched only on `eventLoop`;
    // `store` is immutable and used only on `ioQueue`.

    let eventLoop: any EventLoop
    private var registrar: Registrar
    private let store: RegistrationStore?
    private let ioQueue = DispatchQueue(label: "pbxd.registrations")
    private let logger: Logger
    private var expiryTask: RepeatedTask?
    /// Told of every peer whose registration appeared, changed or went away (qualify, events).
    public var onChange: (@Sendable (_ peer: String, _ registered: Bool) -> Void)?
    /// PeerStatus Registered/Unregistered go here.
    private let events: EventBus?

    public init(eventLoop: any EventLoop, policy: RegistrarPolicy, dataDirectory: String?, events: EventBus? = nil, logger: Logger) {
        self.eventLoop = eventLoop
        self.events = events
        self.logger = logger
        var bindings: [RegistrarBinding] = []
        if let dataDirectory {
            let store = RegistrationStore(directory: dataDirectory)
            self.store = store
            do {
                bindings = try store.load(now: Date())
                if !bindings.isEmpty { logger.info("restored registrations", metadata: ["count": "\(bindings.count)"]) }
            } catch {
                logger.warning("cannot read saved registrations; starting empty", metadata: ["error": "\(error)"])
            }
        } else {
            store = nil
        }
        registrar = Registrar(policy: policy, bindings: bindings)
    }

    /// Starts the periodic expiry sweep.
    public func start() {
        expiryTask = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(5), delay: .seconds(5)) { [weak self] _ in
            self?.expireStale()
        }
    }

    public func stop() {
        expiryTask?.cancel()
    }

    /// The current contact of a peer and the address it really registered from.
    func binding(for peer: String) -> (contact: SIPURI, source: SIPTransportAddress)? {
        eventLoop.preconditionInEventLoop()
        guard let binding = registrar.bindings(for: peer.lowercased(), now: Date()).last,
            let address = try? SocketAddress(ipAddress: binding.source.host, port: binding.source.port)
        else { return nil }
        let transport: SIPTransportKind = binding.source.transport == "TCP" ? .tcp : .udp
        return (binding.contact, SIPTransportAddress(transport: transport, address: address))
    }

    /// All bindings, for `sip show registry`-style listings.
    public var allBindings: [RegistrarBinding] { registrar.allBindings }

    func handle(_ request: SIPRequest, from source: SIPTransportAddress, transaction: ServerTransactionHandle, driver: SIPChannelDriver) {
        let peer: SIPPeer
        switch driver.authenticator.authenticate(request, from: source, purpose: .register) {
        case .challenge(let response), .reject(let response):
            if response.statusCode == 403 {
                logger.notice("registration refused", metadata: ["from": "\(source)", "user": "\(request.headers.to.uri.user ?? "")"])
            }
            driver.transactions.respond(response, on: transaction)
            return
        case .accepted(let accepted):
            peer = accepted
        }
        let registrationSource = RegistrationSource(
            host: source.address.ipAddress ?? "", port: source.address.port ?? 0, transport: source.transport.rawValue)
        let outcome = registrar.register(request, aor: peer.name.lowercased(), source: registrationSource, now: Date())
        var response = outcome.decision.response(to: request, toTag: SIPTokens.tag())
        response.headers.add("Server", driver.userAgent)
        driver.transactions.respond(response, on: transaction)
        guard outcome.changed else { return }
        let registered = !registrar.bindings(for: peer.name.lowercased(), now: Date()).isEmpty
        logger.info(registered ? "peer registered" : "peer unregistered", metadata: ["peer": "\(peer.name)", "from": "\(source)"])
        // chan_sip reports a REGISTER with Expires: 0 as `Expired` too.
        let status: PeerStatusChange = registered
            ? .registered(address: "\(registrationSource.host):\(registrationSource.port)") : .unregistered(cause: "Expired")
        events?.publish(.peerStatus(peer: peer.name, status))
        onChange?(peer.name, registered)
        persist()
    }

    private func expireStale() {
        let expired = registrar.expire(now: Date())
        guard !expired.isEmpty else { return }
        var announced: Set<String> = []
        for binding in expired {
            logger.info("registration expired", metadata: ["peer": "\(binding.aor)"])
            if registrar.bindings(for: binding.aor, now: Date()).isEmpty, announced.insert(binding.aor).inserted {
                events?.publish(.peerStatus(peer: binding.aor, .unregistered(cause: "Expired")))
            }
            onChange?(binding.aor, false)
        }
        persist()
    }

    /// Writes a snapshot off the loop; writes are serialised so the newest always lands last.
    private func persist() {
        guard let store else { return }
        let snapshot = registrar.allBindings
        let logger = self.logger
        ioQueue.async {
            do { try store.save(snapshot) } catch { logger.error("cannot save registrations", metadata: ["error": "\(error)"]) }
        }
    }

    /// Waits until every pending write is on disk (shutdown).
    public func flush() {
        ioQueue.sync {}
    }
}
