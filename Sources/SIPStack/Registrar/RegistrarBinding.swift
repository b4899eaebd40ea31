import Foundation

/// Where a REGISTER really came from: the transport's view, not what the Contact claims. This is
/// what `received`/`rport` (RFC 3581) describe and what requests to a NATed phone must go to.
public struct RegistrationSource: Sendable, Hashable, Codable, CustomStringConvertible {
    /// IP address as text, without brackets.
    public var host: String
    public var port: Int
    /// `UDP`, `TCP`, `TLS`, `WS`, `WSS` (as in Via).
    public var transport: String

    public init(host: String, port: Int, transport: String) {
        self.host = host
        self.port = port
        self.transport = transport.uppercased()
    }

    public var description: String {
        "\(transport) \(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}

/// Registration limits: sip.conf `minexpiry`, `maxexpiry`, `defaultexpiry` (Asterisk's defaults:
/// 60, 3600, 120 seconds) and how many contacts one peer may have.
public struct RegistrarPolicy: Sendable, Hashable {
    public var minExpires: Int
    public var maxExpires: Int
    public var defaultExpires: Int
    /// chan_sip keeps one contact per peer: a new registration replaces the old one. Larger
    /// values keep the newest `maxContacts` bindings (the oldest is dropped first).
    public var maxContacts: Int

    public init(minExpires: Int = 60, maxExpires: Int = 3600, defaultExpires: Int = 120, maxContacts: Int = 1) {
        precondition(minExpires >= 1 && maxExpires >= minExpires && maxContacts >= 1)
        self.minExpires = minExpires
        self.maxExpires = maxExpires
        self.defaultExpires = min(max(defaultExpires, minExpires), maxExpires)
        self.maxContacts = maxContacts
    }
}

/// One registered contact of an address-of-record (RFC 3261 §10.3). In pbxd the AOR is the
/// sip.conf peer name.
public struct RegistrarBinding: Sendable, Hashable {
    public var aor: String
    /// The Contact URI as the user agent sent it (its own idea of its address).
    public var contact: SIPURI
    /// Where the REGISTER actually came from; send requests here when the peer is behind NAT.
    public var source: RegistrationSource
    public var expiresAt: Date
    public var registeredAt: Date
    /// Call-ID and CSeq of the REGISTER that last refreshed the binding (§10.3 step 7).
    public var callID: String
    public var cseq: UInt32
    public var userAgent: String?
    /// The `+sip.instance` Contact parameter (RFC 5626), as sent (quotes and `<urn:...>` kept).
    public var instanceID: String?

    public init(
        aor: String, contact: SIPURI, source: RegistrationSource, expiresAt: Date, registeredAt: Date,
        callID: String, cseq: UInt32, userAgent: String? = nil, instanceID: String? = nil
    ) {
        self.aor = aor
        self.contact = contact
        self.source = source
        self.expiresAt = expiresAt
        self.registeredAt = registeredAt
        self.callID = callID
        self.cseq = cseq
        self.userAgent = userAgent
        self.instanceID = instanceID
    }

    /// Seconds left, rounded up so a binding that still exists never reports 0.
    public func remainingSeconds(now: Date) -> Int {
        max(0, Int(expiresAt.timeIntervalSince(now).rounded(.up)))
    }

    public func isExpired(now: Date) -> Bool { expiresAt <= now }

    /// The Contact value for a 200 OK: the URI with `;expires=` left (and `+sip.instance` echoed,
    /// RFC 5626 §6).
    public func contactHeader(now: Date) -> NameAddress {
        var parameters = SIPParameters()
        parameters["expires"] = String(remainingSeconds(now: now))
        if let instanceID { parameters["+sip.instance"] = instanceID }
        return NameAddress(uri: contact, parameters: parameters)
    }
}

extension SIPURI {
    /// Contact comparison for bindings (RFC 3261 §19.1.4, simplified): scheme, user, host
    /// (case-insensitive), port and `transport` must agree; other parameters are ignored.
    func sameBindingAddress(as other: SIPURI) -> Bool {
        scheme.caseInsensitiveEquals(other.scheme) && user == other.user && host.caseInsensitiveEquals(other.host)
            && port == other.port
            && (parameters["transport"] ?? "udp").caseInsensitiveEquals(other.parameters["transport"] ?? "udp")
    }
}
