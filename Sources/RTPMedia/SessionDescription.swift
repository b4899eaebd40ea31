/// An SDP session description (RFC 4566): parse, edit, serialize.
///
/// Why attributes stay a list of name/value pairs: SDP from real phones carries attributes we do
/// not interpret (`a=ice-*`, `a=label`, vendor extensions) and re-INVITE handling must not lose
/// them; typed accessors (`rtpmaps`, `direction`, `ptime`, `rtcp`) read the list on demand.
/// Unknown line types are kept too and written back in RFC 4566 §5 order.
public struct SessionDescription: Equatable, Sendable {
    public var version: Int = 0
    public var origin: Origin
    public var sessionName: String
    public var connection: Connection?
    /// `t=` lines; at least one is required on the wire, `0 0` when none is given.
    public var timing: [Timing]
    public var attributes: [Attribute]
    /// Session-level lines of other types (i, u, e, p, b, r, z, k, or unknown letters), in order.
    public var otherLines: [Line]
    public var media: [MediaDescription]

    public init(
        origin: Origin, sessionName: String = "-", connection: Connection? = nil,
        timing: [Timing] = [Timing()], attributes: [Attribute] = [], otherLines: [Line] = [],
        media: [MediaDescription] = []
    ) {
        self.origin = origin
        self.sessionName = sessionName
        self.connection = connection
        self.timing = timing
        self.attributes = attributes
        self.otherLines = otherLines
        self.media = media
    }

    /// `o=<username> <sess-id> <sess-version> IN IP4 <address>`
    public struct Origin: Equatable, Sendable {
        public var username: String
        public var sessionID: UInt64
        public var sessionVersion: UInt64
        public var networkType: String
        public var addressType: String
        public var address: String

        public init(
            username: String = "-", sessionID: UInt64, sessionVersion: UInt64,
            networkType: String = "IN", addressType: String = "IP4", address: String
        ) {
            self.username = username
            self.sessionID = sessionID
            self.sessionVersion = sessionVersion
            self.networkType = networkType
            self.addressType = addressType
            self.address = address
        }
    }

    /// `c=IN IP4 <address>`; the TTL/count suffix of multicast addresses stays in `address`.
    public struct Connection: Equatable, Sendable {
        public var networkType: String
        public var addressType: String
        public var address: String

        public init(networkType: String = "IN", addressType: String = "IP4", address: String) {
            self.networkType = networkType
            self.addressType = addressType
            self.address = address
        }

        /// RFC 3264 §8.4 (old-style hold, RFC 2543): `c=0.0.0.0` means "do not send to me".
        public var isNullAddress: Bool { self.address == "0.0.0.0" || self.address == "::" }
    }

    public struct Timing: Equatable, Sendable {
        public var start: UInt64
        public var stop: UInt64
        public init(start: UInt64 = 0, stop: UInt64 = 0) {
            self.start = start
            self.stop = stop
        }
    }

    /// `a=<name>` or `a=<name>:<value>`.
    public struct Attribute: Equatable, Sendable {
        public var name: String
        public var value: String?
        public init(_ name: String, _ value: String? = nil) {
            self.name = name
            self.value = value
        }
    }

    /// A line kept verbatim: its type letter and what follows `=`.
    public struct Line: Equatable, Sendable {
        public var type: Character
        public var value: String
        public init(type: Character, value: String) {
            self.type = type
            self.value = value
        }
    }

    /// Why parsing failed, naming the line (1-based) and its text.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var text: String
        public var reason: String
        public var description: String { "SDP line \(self.line) \"\(self.text)\": \(self.reason)" }
    }
}

/// One `m=` section.
public struct MediaDescription: Equatable, Sendable {
    /// `audio`, `video`, `application`, …
    public var media: String
    /// 0 = stream rejected or disabled (RFC 3264 §6).
    public var port: Int
    public var portCount: Int?
    /// `RTP/AVP`, `RTP/SAVP`, …
    public var proto: String
    /// Payload types for RTP profiles, as text (other profiles use other tokens).
    public var formats: [String]
    public var connection: SessionDescription.Connection?
    public var attributes: [SessionDescription.Attribute]
    /// Media-level lines of other types (i, b, k, or unknown letters), in order.
    public var otherLines: [SessionDescription.Line]

    public init(
        media: String = "audio", port: Int, portCount: Int? = nil, proto: String = "RTP/AVP",
        formats: [String], connection: SessionDescription.Connection? = nil,
        attributes: [SessionDescription.Attribute] = [], otherLines: [SessionDescription.Line] = []
    ) {
        self.media = media
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.connection = connection
        self.attributes = attributes
        self.otherLines = otherLines
    }
}

// MARK: - Typed attribute access

/// RFC 3264 §5.1 / RFC 4566 §6 stream direction.
public enum MediaDirection: String, Sendable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    /// The direction an answerer mirrors (RFC 3264 §6.1): the offerer's sendonly is our recvonly.
    public var reversed: MediaDirection {
        switch self {
        case .sendonly: .recvonly
        case .recvonly: .sendonly
        case .sendrecv, .inactive: self
        }
    }

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    /// The direction allowing only what both allow.
    public func intersection(_ other: MediaDirection) -> MediaDirection {
        switch (self.sends && other.sends, self.receives && other.receives) {
        case (true, true): .sendrecv
        case (true, false): .sendonly
        case (false, true): .recvonly
        case (false, false): .inactive
        }
    }
}

/// `a=rtpmap:<pt> <name>/<clock>[/<channels>]`
public struct RTPMap: Equatable, Sendable {
    public var payloadType: UInt8
    public var encodingName: String
    public var clockRate: Int
    public var channels: Int?

    public init(payloadType: UInt8, encodingName: String, clockRate: Int, channels: Int? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }

    init?(_ value: String) {
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let pt = UInt8(parts[0]), pt < 128 else { return nil }
        let encoding = parts[1].split(separator: "/")
        guard encoding.count >= 2, let clock = Int(encoding[1]) else { return nil }
        self.payloadType = pt
        self.encodingName = String(encoding[0])
        self.clockRate = clock
        self.channels = encoding.count > 2 ? Int(encoding[2]) : nil
    }

    var attributeValue: String {
        "\(self.payloadType) \(self.encodingName)/\(self.clockRate)" + (self.channels.map { "/\($0)" } ?? "")
    }
}

extension MediaDescription {
    public func attribute(_ name: String) -> String?? {
        self.attributes.first { $0.name == name }.map { $0.value }
    }

    /// Replaces every `a=<name>` with one (or removes them when `value` is `.none`).
    public mutating func setAttribute(_ name: String, _ value: String??) {
        self.attributes.removeAll { $0.name == name }
        if case .some(let v) = value { self.attributes.append(.init(name, v)) }
    }

    /// The `a=rtpmap` entries, in order.
    public var rtpmaps: [RTPMap] {
        self.attributes.compactMap { $0.name == "rtpmap" ? $0.value.flatMap(RTPMap.init) : nil }
    }

    public func rtpmap(for payloadType: UInt8) -> RTPMap? {
        self.rtpmaps.first { $0.payloadType == payloadType }
    }

    /// The `a=fmtp` parameters for a payload type (text after `<pt> `).
    public func fmtp(for payloadType: UInt8) -> String? {
        for a in self.attributes where a.name == "fmtp" {
            guard let v = a.value else { continue }
            let parts = v.split(separator: " ", maxSplits: 1)
            if parts.first.flatMap({ UInt8($0) }) == payloadType {
                return parts.count > 1 ? String(parts[1]) : ""
            }
        }
        return nil
    }

    /// Payload types of an RTP profile's format list; non-numeric formats are skipped.
    public var payloadTypes: [UInt8] { self.formats.compactMap { UInt8($0) } }

    /// The stream's direction attribute, or nil if none is present here.
    public var directionAttribute: MediaDirection? {
        self.attributes.lazy.compactMap { MediaDirection(rawValue: $0.name) }.first
    }

    /// Sets the direction attribute (replacing any present).
    public mutating func setDirection(_ direction: MediaDirection) {
        self.attributes.removeAll { MediaDirection(rawValue: $0.name) != nil }
        self.attributes.append(.init(direction.rawValue))
    }

    /// `a=ptime` in milliseconds.
    public var ptime: Int? {
        get { self.attribute("ptime").flatMap { $0 }.flatMap { Int($0) } }
        set { self.setAttribute("ptime", newValue.map { .some(String($0)) } ?? .none) }
    }

    /// `a=rtcp:<port> [IN IP4 <address>]` (RFC 3605).
    public var rtcp: (port: Int, address: String?)? {
        guard let value = self.attribute("rtcp").flatMap({ $0 }) else { return nil }
        let parts = value.split(separator: " ")
        guard let port = parts.first.flatMap({ Int($0) }) else { return nil }
        return (port, parts.count >= 4 ? String(parts[3]) : nil)
    }
}

extension SessionDescription {
    /// Direction of a media section: its own attribute, else the session-level one, else
    /// sendrecv (RFC 4566 §6).
    public func direction(of media: MediaDescription) -> MediaDirection {
        media.directionAttribute
            ?? self.attributes.lazy.compactMap { MediaDirection(rawValue: $0.name) }.first
            ?? .sendrecv
    }

    /// Connection for a media section: media-level `c=` overrides the session's (RFC 4566 §5.7).
    public func connection(of media: MediaDescription) -> Connection? {
        media.connection ?? self.connection
    }

    /// True when the peer puts the first active audio stream on hold: `sendonly` or `inactive`
    /// (RFC 3264 §8.4), or the RFC 2543 `c=0.0.0.0` form.
    public var isHold: Bool {
        guard let audio = self.media.first(where: { $0.media == "audio" && $0.port != 0 }) else { return false }
        let direction = self.direction(of: audio)
        if direction == .sendonly || direction == .inactive { return true }
        return self.connection(of: audio)?.isNullAddress ?? false
    }

    /// For a re-offer: same `o=` session id, version + 1 (RFC 3264 §8).
    public mutating func bumpVersion() {
        self.origin.sessionVersion &+= 1
    }
}
