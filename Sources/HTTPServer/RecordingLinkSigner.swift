import Crypto
import Foundation

/// Signs and checks the recording links pbxd hands to CRMs:
/// `<base>/recordings/<path>?expires=<epoch>&sig=<hex>`, where `<path>` is the file's path
/// under the recordings directory and `sig` is HMAC-SHA256(secret, `<path>` + "\n" +
/// `<expires>`). The newline keeps path and time apart (without it `a1`+`23` and `a`+`123`
/// would sign alike). Only pbxd makes and checks links, so the CRM just follows them.
public struct RecordingLinkSigner: Sendable {
    /// The secret's bytes (SymmetricKey is not Sendable; one is made per use).
    private let secret: [UInt8]
    /// Absolute recordings directory, without a trailing slash.
    public let recordingsDirectory: String
    public let base: String
    public let ttl: Int

    public init(secret: String, recordingsDirectory: String, base: String, ttlSeconds: Int) {
        self.secret = Array(secret.utf8)
        var directory = recordingsDirectory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        self.recordingsDirectory = directory
        self.base = base
        ttl = ttlSeconds
    }

    /// Hex HMAC of one link.
    public func signature(path: String, expires: Int) -> String {
        HMAC<SHA256>.authenticationCode(for: Self.message(path, expires), using: SymmetricKey(data: secret)).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` (hex) is this path's and time's, compared in constant time.
    public func isValid(signature: String, path: String, expires: Int) -> Bool {
        guard let bytes = Self.bytes(hex: signature), bytes.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Self.message(path, expires), using: SymmetricKey(data: secret))
    }

    /// The link to an absolute file path under the recordings directory, valid `ttl` seconds
    /// from `now`; nil for a file elsewhere (a MixMonitor given an absolute path outside it).
    /// Lexical: `..` makes no link; symbolic links are the server's to check when serving.
    public func link(toFile file: String, now: Date = Date()) -> String? {
        guard file.hasPrefix(recordingsDirectory + "/") else { return nil }
        let path = String(file.dropFirst(recordingsDirectory.count + 1))
        guard RecordingPath.isSafe(path) else { return nil }
        let expires = Int(now.timeIntervalSince1970) + ttl
        let encoded = path.split(separator: "/").map { RecordingPath.percentEncode(String($0)) }.joined(separator: "/")
        return "\(base)/recordings/\(encoded)?expires=\(expires)&sig=\(signature(path: path, expires: expires))"
    }

    private static func message(_ path: String, _ expires: Int) -> Data { Data("\(path)\n\(expires)".utf8) }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
