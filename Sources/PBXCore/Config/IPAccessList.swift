import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as its network-order bytes (4 or 16). IPv4-mapped IPv6 addresses
/// (`::ffff:192.0.2.1`) are folded to IPv4 so a dual-stack socket matches IPv4 rules.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: some StringProtocol) {
        var host = String(text)
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return nil }
        let raw = withUnsafeBytes(of: &v6) { Array($0) }
        if raw[0..<10].allSatisfy({ $0 == 0 }) && raw[10] == 0xFF && raw[11] == 0xFF {
            bytes = Array(raw[12..<16])
        } else {
            bytes = raw
        }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16)) }
        return groups.joined(separator: ":")
    }
}

/// `address/prefix` or `address/netmask` (`192.168.1.0/24`, `192.168.1.0/255.255.255.0`,
/// `2001:db8::/32`); a bare address is a single host. Host bits in the address are cleared, as
/// Asterisk does.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        let bits = address.bytes.count * 8
        var prefix = bits
        if parts.count == 2 {
            if let number = Int(parts[1]) {
                guard (0...bits).contains(number) else { return nil }
                prefix = number
            } else if let mask = IPAddress(parts[1]), mask.bytes.count == address.bytes.count,
                let length = Self.prefixLength(ofMask: mask.bytes)
            {
                prefix = length
            } else {
                return nil
            }
        }
        self.prefixLength = prefix
        self.address = IPAddress(maskedBytes: Self.mask(address.bytes, prefix: prefix))
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        candidate.bytes.count == address.bytes.count && Self.mask(candidate.bytes, prefix: prefixLength) == address.bytes
    }

    public var description: String { "\(address)/\(prefixLength)" }

    static func mask(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsHere = max(0, min(8, prefix - index * 8))
            return bitsHere == 8 ? byte : byte & ~(0xFF >> UInt8(bitsHere))
        }
    }

    /// The prefix length of a contiguous netmask; `nil` for `255.0.255.0` and the like.
    static func prefixLength(ofMask bytes: [UInt8]) -> Int? {
        var length = 0
        var ended = false
        for byte in bytes {
            for bit in (0..<8).reversed() {
                if byte & (1 << UInt8(bit)) != 0 {
                    if ended { return nil }
                    length += 1
                } else {
                    ended = true
                }
            }
        }
        return length
    }
}

extension IPAddress {
    fileprivate init(maskedBytes: [UInt8]) { self.bytes = maskedBytes }
}

/// sip.conf `permit=` / `deny=` in order, evaluated like Asterisk's `ast_apply_ha`: start from
/// "allow", every rule that matches sets the result, so the *last* matching rule wins. A rule
/// written `!net` matches addresses outside `net`. An IPv4 rule never matches an IPv6 address,
/// except a `/0` rule (`deny=0.0.0.0/0.0.0.0`), which means "everyone" in both families — so the
/// usual "deny all, permit the office" list does not leave IPv6 open.
public struct IPAccessList: Sendable, Hashable {
    public enum Sense: String, Sendable, Hashable {
        case permit, deny
    }

    public struct Rule: Sendable, Hashable {
        public var sense: Sense
        public var network: IPNetwork
        public var negated: Bool
        public init(sense: Sense, network: IPNetwork, negated: Bool = false) {
            self.sense = sense
            self.network = network
            self.negated = negated
        }
    }

    public var rules: [Rule]

    public init(rules: [Rule] = []) { self.rules = rules }

    public var isEmpty: Bool { rules.isEmpty }

    /// Parses and appends one `permit`/`deny` value.
    public mutating func append(_ sense: Sense, _ text: String) -> Bool {
        var spec = text.trimmingCharacters(in: .whitespaces)
        let negated = spec.hasPrefix("!")
        if negated { spec.removeFirst() }
        guard let network = IPNetwork(spec) else { return false }
        rules.append(Rule(sense: sense, network: network, negated: negated))
        return true
    }

    /// Whether `address` may use the peer. An unparseable address is refused when there are rules.
    public func allows(_ address: String) -> Bool {
        guard !rules.isEmpty else { return true }
        guard let ip = IPAddress(address) else { return false }
        return allows(ip)
    }

    public func allows(_ address: IPAddress) -> Bool {
        var result = Sense.permit
        for rule in rules where rule.network.prefixLength == 0 || rule.network.address.isIPv4 == address.isIPv4 {
            let matches = rule.network.prefixLength == 0 || rule.network.contains(address)
            if matches != rule.negated { result = rule.sense }
        }
        return result == .permit
    }
}
