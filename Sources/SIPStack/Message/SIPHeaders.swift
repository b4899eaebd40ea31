/// The header fields of a SIP message. The headers every message needs for routing and
/// transaction matching are typed (STYLE.md §8); all others stay as text in arrival order and are
/// parsed only when asked for.
public struct SIPHeaders: Sendable {
    public var vias: [Via]
    public var from: NameAddress
    public var to: NameAddress
    public var callID: String
    public var cseq: CSeq
    public var maxForwards: Int?
    /// Contact values; empty when absent. A REGISTER's `Contact: *` sets `contactWildcard`.
    public var contacts: [NameAddress]
    public var contactWildcard: Bool
    public var routes: [NameAddress]
    public var recordRoutes: [NameAddress]
    public var contentType: String?
    /// Every other header, in order, with its canonical (long-form) name and its raw value.
    public var other: [(name: String, value: String)]

    public init(
        vias: [Via], from: NameAddress, to: NameAddress, callID: String, cseq: CSeq,
        maxForwards: Int? = nil, contacts: [NameAddress] = [], contactWildcard: Bool = false,
        routes: [NameAddress] = [], recordRoutes: [NameAddress] = [], contentType: String? = nil,
        other: [(name: String, value: String)] = []
    ) {
        self.vias = vias
        self.from = from
        self.to = to
        self.callID = callID
        self.cseq = cseq
        self.maxForwards = maxForwards
        self.contacts = contacts
        self.contactWildcard = contactWildcard
        self.routes = routes
        self.recordRoutes = recordRoutes
        self.contentType = contentType
        self.other = other
    }

    /// The first value of an untyped header, by case-insensitive name.
    public subscript(name: String) -> String? {
        other.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// All values of an untyped header, comma-separated lists split (quotes respected).
    public func values(_ name: String) -> [String] {
        other.filter { $0.name.caseInsensitiveEquals(name) }.flatMap { SIPHeaders.splitCommaList($0.value) }
    }

    /// Replaces every instance of an untyped header with one value (or removes it when `nil`).
    public mutating func set(_ name: String, _ value: String?) {
        other.removeAll { $0.name.caseInsensitiveEquals(name) }
        if let value { other.append((name, value)) }
    }

    public mutating func add(_ name: String, _ value: String) {
        other.append((name, value))
    }

    /// Splits `a, "b, c", <d,e>` at top-level commas, honouring quoted strings and angle brackets.
    public static func splitCommaList(_ value: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var inQuotes = false, escaped = false, angle = 0
        for ch in value {
            if escaped { current.append(ch); escaped = false; continue }
            switch ch {
            case "\\" where inQuotes: escaped = true; current.append(ch)
            case "\"": inQuotes.toggle(); current.append(ch)
            case "<" where !inQuotes: angle += 1; current.append(ch)
            case ">" where !inQuotes: angle = max(0, angle - 1); current.append(ch)
            case "," where !inQuotes && angle == 0:
                parts.append(current.trimmingSIPWhitespace())
                current = ""
            default: current.append(ch)
            }
        }
        let last = current.trimmingSIPWhitespace()
        if !last.isEmpty || !parts.isEmpty { parts.append(last) }
        return parts.filter { !$0.isEmpty }
    }
}

extension StringProtocol {
    /// Trims spaces, tabs, CR and LF from both ends.
    public func trimmingSIPWhitespace() -> String {
        let isWS: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let start = firstIndex(where: { !isWS($0) }) else { return "" }
        let end = lastIndex(where: { !isWS($0) })!
        return String(self[start...end])
    }
}
