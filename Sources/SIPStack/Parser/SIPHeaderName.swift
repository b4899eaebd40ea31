/// Header-name recognition: case-insensitive (RFC 3261 §7.3.1), compact forms expanded
/// (§7.3.3 and the extensions that define one), and every known name mapped to one canonical
/// spelling so `headers.other` and `headers["..."]` see `Call-ID`, never `i` or `call-id`.
enum SIPHeaderKind: UInt8 {
    case via, from, to, callID, cseq, maxForwards, contact, route, recordRoute, contentType, contentLength
    case other
}

enum SIPHeaderName {
    /// A lowercased name of up to 24 bytes packed into integers, so the table is plain data:
    /// scanning it costs integer compares and no reference counting.
    struct Key: Equatable {
        var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0
        var count: Int = 0

        static let capacity = 24

        @inline(__always) init?(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
            guard range.count <= Self.capacity else { return nil }
            count = range.count
            var offset = 0
            for index in range {
                let byte = UInt64(SIPChar.lower(bytes[index]))
                let shift = UInt64((offset & 7) * 8)
                switch offset >> 3 {
                case 0: a |= byte << shift
                case 1: b |= byte << shift
                default: c |= byte << shift
                }
                offset += 1
            }
        }

        init(_ name: String) {
            var copy = name
            self = copy.withUTF8 { Key($0, 0..<$0.count)! }
        }
    }

    struct Entry {
        let key: Key
        let kind: SIPHeaderKind
        /// Index into `canonicalNames`.
        let name: Int
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
    static let compactForms: [(String, String)] = [
        ("i", "Call-ID"), ("m", "Contact"), ("f", "From"), ("t", "To"), ("v", "Via"),
        ("l", "Content-Length"), ("c", "Content-Type"), ("e", "Content-Encoding"),
        ("k", "Supported"), ("s", "Subject"), ("o", "Event"), ("u", "Allow-Events"),
        ("r", "Refer-To"), ("b", "Referred-By"), ("x", "Session-Expires"), ("a", "Accept-Contact"),
        ("j", "Reject-Contact"), ("d", "Request-Disposition"), ("y", "Identity"), ("n", "Identity-Info"),
    ]

    /// All entries sorted by name length; `lengthStart[n]..<lengthStart[n + 1]` are those of length n.
    static let table: (entries: [Entry], lengthStart: [Int]) = {
        var entries: [Entry] = []
        for (index, (name, kind)) in canonicalNames.enumerated() {
            entries.append(Entry(key: Key(name), kind: kind, name: index))
        }
        for (short, long) in compactForms {
            let index = canonicalNames.firstIndex { $0.0 == long }!
            entries.append(Entry(key: Key(short), kind: canonicalNames[index].1, name: index))
        }
        entries.sort { $0.key.count < $1.key.count }
        var lengthStart = [Int](repeating: entries.count, count: Key.capacity + 2)
        for length in (0...(Key.capacity + 1)).reversed() {
            if let first = entries.firstIndex(where: { $0.key.count >= length }) { lengthStart[length] = first }
        }
        return (entries, lengthStart)
    }()

    /// The table entry for the name bytes, or nil for an unknown header (kept with its spelling
    /// as received).
    @inline(__always)
    static func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Entry? {
        guard let key = Key(bytes, range) else { return nil }
        return table.entries.withUnsafeBufferPointer { entries in
            let start = table.lengthStart[key.count], end = table.lengthStart[key.count + 1]
            for index in start..<end where entries[index].key == key { return entries[index] }
            return nil
        }
    }

    /// The canonical spelling for a table entry.
    @inline(__always) static func canonical(_ entry: Entry) -> String { canonicalNames[entry.name].0 }

    /// The canonical spelling for a header name given as a String (`"i"` → `"Call-ID"`).
    static func canonical(_ name: String) -> String {
        var copy = name
        return copy.withUTF8 { bytes in lookup(bytes, 0..<bytes.count).map(canonical) } ?? name
    }
}
