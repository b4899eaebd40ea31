/// Header-name recognition: case-insensitive (RFC 3261 §7.3.1), compact forms expanded
/// (§7.3.3 and the extensions that define one), and every known name mapped to one canonical
/// spelling so `headers.other` and `headers["..."]` see `Call-ID`, never `i` or `call-id`.
enum SIPHeaderKind: UInt8 {
    case via, from, to, callID, cseq, maxForwards, contact, route, recordRoute, contentType, contentLength
    case other
}

enum SIPHeaderName {
    struct Entry {
        let lowercased: [UInt8]
        let canonical: String
        let kind: SIPHeaderKind
    }

    /// Canonical long names of the headers pbxd knows, typed ones first.
    static let canonicalNames: [(String, SIPHeaderKind)] = [
        ("Via", .via), ("From", .from), ("To", .to), ("Call-ID", .callID), ("CSeq", .cseq),
        ("Max-Forwards", .maxForwards), ("Contact", .contact), ("Route", .route),
        ("Record-Route", .recordRoute), ("Content-Type", .contentType), ("Content-Length", .contentLength),
        ("Accept", .other), ("Accept-Encoding", .other), ("Accept-Language", .other),
        ("Accept-Contact", .other), ("Alert-Info", .other), ("Allow", .other), ("Allow-Events", .other),
        ("Authentication-Info", .other), ("Authorization", .other), ("Call-Info", .other),
        ("Content-Disposition", .other), ("Content-Encoding", .other), ("Content-Language", .other),
        ("Date", .other), ("Diversion", .other), ("Error-Info", .other), ("Event", .other),
        ("Expires", .other), ("Identity", .other), ("Identity-Info", .other), ("In-Reply-To", .other),
        ("Min-Expires", .other), ("Min-SE", .other), ("MIME-Version", .other), ("Organization", .other),
        ("P-Asserted-Identity", .other), ("P-Preferred-Identity", .other), ("Path", .other),
        ("Priority", .other), ("Privacy", .other), ("Proxy-Authenticate", .other),
        ("Proxy-Authorization", .other), ("Proxy-Require", .other), ("RAck", .other),
        ("Reason", .other), ("Refer-To", .other), ("Referred-By", .other), ("Reject-Contact", .other),
        ("Remote-Party-ID", .other), ("Replaces", .other), ("Reply-To", .other),
        ("Request-Disposition", .other), ("Require", .other), ("Retry-After", .other), ("RSeq", .other),
        ("Server", .other), ("Session-Expires", .other), ("SIP-ETag", .other), ("SIP-If-Match", .other),
        ("Subject", .other), ("Subscription-State", .other), ("Supported", .other),
        ("Timestamp", .other), ("Unsupported", .other), ("User-Agent", .other), ("Warning", .other),
        ("WWW-Authenticate", .other),
    ]

    /// Compact forms: RFC 3261 §7.3.3 (i m f t v l c e k s) and extensions (RFC 3265 o u,
    /// RFC 3515 r, RFC 3892 b, RFC 4028 x, RFC 3841 a j d, RFC 4474 y n).
    static let compactForms: [(UInt8, String)] = [
        (0x69, "Call-ID"), (0x6D, "Contact"), (0x66, "From"), (0x74, "To"), (0x76, "Via"),
        (0x6C, "Content-Length"), (0x63, "Content-Type"), (0x65, "Content-Encoding"),
        (0x6B, "Supported"), (0x73, "Subject"), (0x6F, "Event"), (0x75, "Allow-Events"),
        (0x72, "Refer-To"), (0x62, "Referred-By"), (0x78, "Session-Expires"), (0x61, "Accept-Contact"),
        (0x6A, "Reject-Contact"), (0x64, "Request-Disposition"), (0x79, "Identity"), (0x6E, "Identity-Info"),
    ]

    /// Entries bucketed by name length, so a lookup compares only a handful of candidates.
    static let buckets: [[Entry]] = {
        var buckets = [[Entry]](repeating: [], count: 32)
        let kinds = Dictionary(uniqueKeysWithValues: canonicalNames.map { ($0.0, $0.1) })
        for (name, kind) in canonicalNames {
            buckets[name.utf8.count].append(Entry(lowercased: name.utf8.map(SIPChar.lower), canonical: name, kind: kind))
        }
        for (letter, name) in compactForms {
            buckets[1].append(Entry(lowercased: [letter], canonical: name, kind: kinds[name] ?? .other))
        }
        return buckets
    }()

    /// The canonical name and kind for the name bytes, or nil for an unknown header (kept with
    /// its spelling as received).
    @inline(__always)
    static func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Entry? {
        let count = range.count
        guard count < 32 else { return nil }
        let base = range.lowerBound
        for entry in buckets[count] {
            var matches = true
            entry.lowercased.withUnsafeBufferPointer { candidate in
                for offset in 0..<count where SIPChar.lower(bytes[base + offset]) != candidate[offset] {
                    matches = false
                    break
                }
            }
            if matches { return entry }
        }
        return nil
    }

    /// The canonical spelling for a header name given as a String (`"i"` → `"Call-ID"`).
    static func canonical(_ name: String) -> String {
        var copy = name
        return copy.withUTF8 { bytes in lookup(bytes, 0..<bytes.count)?.canonical } ?? name
    }
}
