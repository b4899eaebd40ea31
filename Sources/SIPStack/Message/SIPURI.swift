/// A SIP or SIPS URI (RFC 3261 §19.1). Other schemes (`tel:`, `mailto:`) parse into `scheme` +
/// `opaque` so a server can answer 416 Unsupported URI Scheme rather than 400.
public struct SIPURI: Hashable, Sendable, CustomStringConvertible {
    public var scheme: String
    public var user: String?
    public var password: String?
    /// Host without IPv6 brackets (`::1`, `example.com`, `192.0.2.1`).
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters
    /// `?name=value&...` headers, kept in their escaped wire form without the `?`.
    public var headers: String?
    /// For non-SIP schemes: everything after `scheme:`.
    public var opaque: String?

    public init(
        scheme: String = "sip", user: String? = nil, password: String? = nil, host: String,
        port: Int? = nil, parameters: SIPParameters = SIPParameters(), headers: String? = nil
    ) {
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
        self.opaque = nil
    }

    public var isSIP: Bool { scheme.caseInsensitiveEquals("sip") || scheme.caseInsensitiveEquals("sips") }

    /// The host as it appears on the wire: IPv6 addresses in brackets.
    public var hostForWire: String { host.contains(":") ? "[\(host)]" : host }

    /// `host[:port]` as used in Via sent-by and Host-like contexts.
    public var hostPort: String { port.map { "\(hostForWire):\($0)" } ?? hostForWire }

    public var description: String {
        if let opaque, !isSIP { return "\(scheme):\(opaque)" }
        var out = scheme + ":"
        if let user {
            out += user
            if let password { out += ":" + password }
            out += "@"
        }
        out += hostPort
        out += parameters.serialized
        if let headers { out += "?" + headers }
        return out
    }
}

/// `"Display Name" <sip:uri>;tag=x` — the form of From, To, Contact, Route and Record-Route values
/// (RFC 3261 §20.10). `parameters` are the header parameters outside the angle brackets.
public struct NameAddress: Hashable, Sendable, CustomStringConvertible {
    public var displayName: String?
    public var uri: SIPURI
    public var parameters: SIPParameters

    public init(displayName: String? = nil, uri: SIPURI, parameters: SIPParameters = SIPParameters()) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public var tag: String? {
        get { parameters["tag"] }
        set { parameters["tag"] = newValue }
    }

    /// Always serialised in name-addr form (with angle brackets), which is never ambiguous.
    public var description: String {
        var out = ""
        if let displayName, !displayName.isEmpty { out += "\"\(Self.escapeQuoted(displayName))\" " }
        out += "<\(uri)>"
        out += parameters.serialized
        return out
    }

    static func escapeQuoted(_ text: String) -> String {
        var out = ""
        for ch in text {
            if ch == "\"" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out
    }
}

/// One Via entry (RFC 3261 §20.42): `SIP/2.0/UDP host:port;branch=z9hG4bK...;rport`.
public struct Via: Hashable, Sendable, CustomStringConvertible {
    public var transport: String
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters

    public init(transport: String, host: String, port: Int?, parameters: SIPParameters = SIPParameters()) {
        self.transport = transport
        self.host = host
        self.port = port
        self.parameters = parameters
    }

    public var branch: String? { parameters["branch"].flatMap { $0.isEmpty ? nil : $0 } }

    /// RFC 3261 §17.2.3: branches with this cookie are unique per transaction.
    public static let magicCookie = "z9hG4bK"

    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "SIP/2.0/\(transport) \(hostPart)\(port.map { ":\($0)" } ?? "")\(parameters.serialized)"
    }
}

/// `CSeq: 314159 INVITE` (RFC 3261 §20.16).
public struct CSeq: Hashable, Sendable, CustomStringConvertible {
    public var number: UInt32
    public var method: SIPMethod
    public init(number: UInt32, method: SIPMethod) {
        self.number = number
        self.method = method
    }
    public var description: String { "\(number) \(method)" }
}
