import NIOCore

/// The transports pbxd speaks SIP over.
public enum SIPTransportKind: String, Sendable, Hashable {
    case udp = "UDP"
    case tcp = "TCP"

    /// Reliable transports skip retransmission timers (RFC 3261 §17.1.1.2, §17.1.2.2).
    public var isReliable: Bool { self != .udp }
}

/// Where a message came from or goes to: the transport and the remote socket address. For TCP the
/// transport layer maps the address to its open connection (or opens one).
public struct SIPTransportAddress: Hashable, Sendable, CustomStringConvertible {
    public var transport: SIPTransportKind
    public var address: SocketAddress

    public init(transport: SIPTransportKind, address: SocketAddress) {
        self.transport = transport
        self.address = address
    }

    public var description: String { "\(transport.rawValue.lowercased()):\(address.ipAddress ?? "?"):\(address.port ?? 0)" }
}
