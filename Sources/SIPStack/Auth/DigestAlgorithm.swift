import Crypto

/// The digest hash algorithms pbxd speaks (RFC 7616 §3.2, RFC 8760 §2).
///
/// The `-sess` variants are deliberately not offered or accepted: no SIP phone needs them and
/// accepting an algorithm we never offered only widens the attack surface. SHA-512-256 is not
/// offered either (RFC 8760 lists it, but clients rarely implement it).
public enum DigestAlgorithm: String, Sendable, CaseIterable, Hashable {
    case sha256 = "SHA-256"
    case md5 = "MD5"

    /// Case-insensitive lookup of the `algorithm=` token. `nil` for anything we don't accept.
    public init?(token: some StringProtocol) {
        if token.caseInsensitiveEquals("MD5") {
            self = .md5
        } else if token.caseInsensitiveEquals("SHA-256") {
            self = .sha256
        } else {
            return nil
        }
    }

    /// Lowercase hex of the hash of the UTF-8 bytes of `text`.
    public func hexDigest(_ text: String) -> String {
        switch self {
        case .md5: Self.hex(Insecure.MD5.hash(data: Array(text.utf8)))
        case .sha256: Self.hex(SHA256.hash(data: Array(text.utf8)))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What the server knows about a user's password (sip.conf `secret` or `md5secret`).
public enum DigestSecret: Sendable, Hashable {
    /// The clear-text password (`secret=`); works with every algorithm.
    case password(String)
    /// `md5secret=`: lowercase hex of MD5(`user:realm:password`), i.e. the MD5 HA1. It can only
    /// verify MD5 responses; a client answering the SHA-256 challenge fails (see `DigestAuthenticator`).
    case md5HA1(String)
}

/// The response computation of RFC 7616 §3.4.1 (and RFC 2617 §3.2.2.1 / RFC 2069 when `qop` is
/// absent), shared by the server's verification and any client code (trunk registration, tests).
public enum DigestComputation {
    /// HA1 = H(username ":" realm ":" password); `nil` when the secret cannot serve `algorithm`.
    public static func ha1(
        algorithm: DigestAlgorithm, username: String, realm: String, secret: DigestSecret
    ) -> String? {
        switch secret {
        case .password(let password):
            return algorithm.hexDigest("\(username):\(realm):\(password)")
        case .md5HA1(let ha1):
            return algorithm == .md5 ? ha1.lowercased() : nil
        }
    }

    /// response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2) with qop, or
    /// H(HA1 ":" nonce ":" HA2) without (RFC 2069), where HA2 = H(method ":" uri).
    public static func response(
        algorithm: DigestAlgorithm, ha1: String, method: String, uri: String, nonce: String,
        qop: String?, nc: String?, cnonce: String?
    ) -> String {
        let ha2 = algorithm.hexDigest("\(method):\(uri)")
        if let qop {
            return algorithm.hexDigest("\(ha1):\(nonce):\(nc ?? ""):\(cnonce ?? ""):\(qop):\(ha2)")
        }
        return algorithm.hexDigest("\(ha1):\(nonce):\(ha2)")
    }

    /// Compares two byte strings in time that depends only on `expected`'s length, never on
    /// where they first differ.
    public static func constantTimeEquals(_ received: some Collection<UInt8>, _ expected: some Collection<UInt8>) -> Bool {
        var difference: UInt8 = received.count == expected.count ? 0 : 1
        var receivedIterator = received.makeIterator()
        for byte in expected {
            let other = receivedIterator.next() ?? ~byte
            difference |= byte ^ other
        }
        return difference == 0
    }
}
