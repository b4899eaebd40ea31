/// Why an `Authorization`/`Proxy-Authorization` value could not be read. The SIP layer answers
/// these with a fresh challenge (never with the reason: it is for logs only).
public enum DigestParseError: Error, Sendable, Hashable {
    case notDigest
    case tooLong
    case malformed(String)
    case missing(String)
    case duplicate(String)
}

/// The auth-params of a `Digest` header value (RFC 7616 §3.4 credentials, RFC 3261 §25.1
/// `digest-response`), as sent by the client in `Authorization` or `Proxy-Authorization`.
///
/// `algorithmToken` keeps the client's token; `algorithm` is `nil` when it names an algorithm
/// pbxd does not accept (the verifier then fails the request like any wrong answer).
public struct DigestCredentials: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var realm: String
    public var nonce: String
    public var uri: String
    public var response: String
    public var algorithmToken: String
    public var cnonce: String?
    public var qop: String?
    /// `nc` exactly as sent (8 hex digits); `nonceCount` is its value.
    public var nc: String?
    public var opaque: String?
    /// RFC 7616 `userhash=true`: pbxd does not support hashed user names and fails such requests.
    public var userhash: Bool

    public var algorithm: DigestAlgorithm? { DigestAlgorithm(token: algorithmToken) }
    public var nonceCount: UInt32? { nc.flatMap { UInt32($0, radix: 16) } }

    /// Longest header value accepted; a real one is a few hundred bytes.
    public static let maxLength = 4096
    static let maxParameters = 32

    public init(
        username: String, realm: String, nonce: String, uri: String, response: String,
        algorithm: DigestAlgorithm = .md5, cnonce: String? = nil, qop: String? = nil, nc: String? = nil,
        opaque: String? = nil
    ) {
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithmToken = algorithm.rawValue
        self.cnonce = cnonce
        self.qop = qop
        self.nc = nc
        self.opaque = opaque
        self.userhash = false
    }

    /// Parses `Digest username="..", realm="..", ...`. Unknown parameters are ignored
    /// (RFC 7616 §3.4); `qop` requires `cnonce` and an 8-hex-digit `nc`.
    public static func parse(_ value: String) throws(DigestParseError) -> DigestCredentials {
        guard value.utf8.count <= maxLength else { throw .tooLong }
        let trimmed = value.trimmingSIPWhitespace()
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }),
            trimmed[..<space].caseInsensitiveEquals("Digest")
        else { throw .notDigest }
        let params = try AuthParamScanner.scan(String(trimmed[space...]))

        func required(_ name: String) throws(DigestParseError) -> String {
            guard let value = params[name] else { throw .missing(name) }
            return value
        }
        var credentials = DigestCredentials(
            username: try required("username"), realm: try required("realm"), nonce: try required("nonce"),
            uri: try required("uri"), response: try required("response"))
        credentials.algorithmToken = params["algorithm"] ?? "MD5"
        credentials.opaque = params["opaque"]
        credentials.userhash = params["userhash"].map { $0.caseInsensitiveEquals("true") } ?? false
        if let qop = params["qop"] {
            guard let cnonce = params["cnonce"], !cnonce.isEmpty else { throw .missing("cnonce") }
            guard let nc = params["nc"], nc.utf8.count == 8, UInt32(nc, radix: 16) != nil else {
                throw .malformed("nc")
            }
            credentials.qop = qop
            credentials.cnonce = cnonce
            credentials.nc = nc
        } else {
            credentials.cnonce = params["cnonce"]
        }
        return credentials
    }

    /// The wire form, for clients (trunk registration) and tests.
    public var description: String {
        var parts = [
            "username=\(digestQuoted(username))", "realm=\(digestQuoted(realm))", "nonce=\(digestQuoted(nonce))",
            "uri=\(digestQuoted(uri))", "response=\(digestQuoted(response))", "algorithm=\(algorithmToken)",
        ]
        if let cnonce { parts.append("cnonce=\(digestQuoted(cnonce))") }
        if let opaque { parts.append("opaque=\(digestQuoted(opaque))") }
        if let qop, let nc {
            parts.append("qop=\(qop)")
            parts.append("nc=\(nc)")
        }
        return "Digest " + parts.joined(separator: ", ")
    }
}

func digestQuoted(_ text: String) -> String {
    var out = "\""
    for ch in text {
        if ch == "\"" || ch == "\\" { out.append("\\") }
        out.append(ch)
    }
    out.append("\"")
    return out
}

/// Scans `name=token-or-"quoted", ...` auth-params (RFC 7235 §2.1 / RFC 3261 §25.1). Names are
/// lowercased; duplicates are an error (a client sending two `response` values is not honest).
enum AuthParamScanner {
    static func scan(_ text: String) throws(DigestParseError) -> [String: String] {
        var result: [String: String] = [:]
        let bytes = Array(text.utf8)
        var i = 0
        func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D || bytes[i] == 0x0A { i += 1 }
        }
        while true {
            skipSpace()
            while i < bytes.count, bytes[i] == UInt8(ascii: ",") {
                i += 1
                skipSpace()
            }
            if i >= bytes.count { break }
            let nameStart = i
            while i < bytes.count, isTokenByte(bytes[i]) { i += 1 }
            guard i > nameStart else { throw .malformed("expected a parameter name") }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self).lowercased()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw .malformed("'\(name)' without a value") }
            i += 1
            skipSpace()
            var value: [UInt8] = []
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                i += 1
                var closed = false
                while i < bytes.count {
                    let byte = bytes[i]
                    if byte == UInt8(ascii: "\\"), i + 1 < bytes.count {
                        value.append(bytes[i + 1])
                        i += 2
                    } else if byte == UInt8(ascii: "\"") {
                        i += 1
                        closed = true
                        break
                    } else {
                        value.append(byte)
                        i += 1
                    }
                }
                guard closed else { throw .malformed("unterminated quoted string in '\(name)'") }
            } else {
                let start = i
                while i < bytes.count, isTokenByte(bytes[i]) || bytes[i] == UInt8(ascii: "/") { i += 1 }
                value = Array(bytes[start..<i])
            }
            guard result[name] == nil else { throw .duplicate(name) }
            guard result.count < DigestCredentials.maxParameters else { throw .malformed("too many parameters") }
            result[name] = String(decoding: value, as: UTF8.self)
            skipSpace()
            if i < bytes.count {
                guard bytes[i] == UInt8(ascii: ",") else { throw .malformed("expected ',' after '\(name)'") }
            }
        }
        return result
    }

    /// RFC 3261 §25.1 `token` characters.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"), UInt8(ascii: "*"),
            UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "`"), UInt8(ascii: "'"), UInt8(ascii: "~"):
            true
        default: false
        }
    }
}
