/// An extension name as written in extensions.conf: either an exact name (`1001`, `s`, `h`)
/// or a `_` pattern (`_NXX`, `_9[1-5]X.`, `_0!`).
///
/// Matching follows Asterisk's semantics (pbx.c `_extension_match_core`): `X` = 0-9, `Z` = 1-9,
/// `N` = 2-9 (case-insensitive), `[...]` sets with ranges, `.` = one or more of anything,
/// `!` = zero or more of anything ("early match" for overlap dialing). `-` and spaces are
/// ignored outside sets, and a `.` or `!` ends the pattern. Exact names are compared with the
/// same `-`/space stripping, case-sensitively.
///
/// `ExtensionPattern` is `Comparable` in Asterisk's documented search order (`ext_cmp`):
/// exact names first (in ASCII order), then patterns position by position, the position with
/// fewer possible characters first, equal-sized sets in ASCII order of their members, `.` after
/// every set, `!` after `.`, and a pattern that ends earlier before a longer one.
public struct ExtensionPattern: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// One position of a pattern.
    enum Element: Sendable, Hashable {
        /// A literal character (a set of one) or `X`/`Z`/`N`/`[...]`; members sorted, unique.
        case set([Character])
        /// `.`: one or more remaining characters.
        case oneOrMore
        /// `!`: zero or more remaining characters.
        case zeroOrMore
    }

    /// How well an extension string fits a pattern, the three questions Asterisk's
    /// `E_MATCH` / `E_CANMATCH` / `E_MATCHMORE` searches ask.
    public enum MatchMode: Sendable {
        /// The string is a complete match now.
        case match
        /// The string matches now or could match with more characters.
        case canMatch
        /// More characters could still produce a match (overlap dialing: keep collecting).
        case matchMore
    }

    /// The raw text as written (`_NXX`, `1001`).
    public let text: String
    public let isPattern: Bool
    /// Pattern positions (patterns only).
    let elements: [Element]
    /// `elements` as byte masks, for the usual dialed string of printable ASCII (see `fitASCII`).
    let masks: [ByteMask]
    /// Exact names with `-` and spaces removed (exact names only).
    let literal: String
    /// Characters after a `.` or `!` were ignored (Asterisk does; the loader warns).
    public let hasTextAfterWildcard: Bool

    /// Parses an extension name; throws for malformed patterns such as `_[12` or `_[]`.
    public init(_ text: String) throws(PatternError) {
        self.text = text
        if text.hasPrefix("_") {
            isPattern = true
            literal = ""
            (elements, hasTextAfterWildcard) = try Self.parsePattern(text.dropFirst(), whole: text)
            masks = elements.map(ByteMask.init)
        } else {
            guard !text.isEmpty else { throw PatternError(pattern: text, reason: "empty extension") }
            isPattern = false
            hasTextAfterWildcard = false
            elements = []
            masks = []
            literal = Self.stripSeparators(text)
        }
    }

    public var description: String { text }

    /// Characters a pattern ignores outside sets (Asterisk lets people write `_1-800-NXX`).
    static func stripSeparators(_ s: some StringProtocol) -> String {
        String(s.filter { $0 != "-" && $0 != " " })
    }

    private static func parsePattern(_ body: Substring, whole: String) throws(PatternError) -> ([Element], Bool) {
        var elements: [Element] = []
        var index = body.startIndex
        while index < body.endIndex {
            let ch = body[index]
            switch ch {
            case "X", "x": elements.append(.set(Array("0123456789")))
            case "Z", "z": elements.append(.set(Array("123456789")))
            case "N", "n": elements.append(.set(Array("23456789")))
            case ".", "!":
                elements.append(ch == "." ? .oneOrMore : .zeroOrMore)
                return (elements, body.index(after: index) < body.endIndex)
            case "-", " ": break
            case "[":
                let (members, close) = try parseSet(body, from: body.index(after: index), whole: whole)
                elements.append(.set(members))
                index = close
            default: elements.append(.set([ch]))
            }
            index = body.index(after: index)
        }
        guard !elements.isEmpty else { throw PatternError(pattern: whole, reason: "pattern has no characters after '_'") }
        return (elements, false)
    }

    /// Parses a `[...]` set starting after `[`; returns its members and the index of `]`.
    /// Inside a set only `-` (range) and `\` (escape) are special, as Asterisk documents.
    private static func parseSet(_ body: Substring, from start: Substring.Index, whole: String) throws(PatternError) -> ([Character], Substring.Index) {
        var members = Set<Character>()
        var index = start
        var previous: Character?
        while index < body.endIndex {
            var ch = body[index]
            if ch == "]" {
                guard !members.isEmpty else { throw PatternError(pattern: whole, reason: "empty character set '[]'") }
                return (members.sorted(), index)
            }
            if ch == "\\" {
                index = body.index(after: index)
                guard index < body.endIndex else { break }
                ch = body[index]
            } else if ch == "-", let low = previous {
                let next = body.index(after: index)
                if next < body.endIndex, body[next] != "]" {
                    let high = body[next]
                    // Asterisk's sets are bytes; a wider range is a typo, not a 64k-member set.
                    guard let lowScalar = low.unicodeScalars.first?.value, let highScalar = high.unicodeScalars.first?.value,
                          max(lowScalar, highScalar) - min(lowScalar, highScalar) < 256 else {
                        throw PatternError(pattern: whole, reason: "bad range '\(low)-\(high)' in character set")
                    }
                    // `[6-4]` is accepted by Asterisk as the range 4-6.
                    for value in min(lowScalar, highScalar)...max(lowScalar, highScalar) {
                        if let scalar = Unicode.Scalar(value) { members.insert(Character(scalar)) }
                    }
                    previous = nil
                    index = body.index(after: next)
                    continue
                }
            }
            members.insert(ch)
            previous = ch
            index = body.index(after: index)
        }
        throw PatternError(pattern: whole, reason: "character set '[' without closing ']'")
    }

    // MARK: Matching

    /// The outcome of one pattern against one string, as Asterisk's matcher reports it.
    enum Fit {
        case no
        case yes
        /// Matched through `!`: complete now, and more characters are not needed.
        case early
    }

    func fit(_ exten: String, mode: MatchMode) -> Fit {
        guard isPattern else {
            // Most dialed strings have no separators: skip the copy then (this runs once per
            // exact extension of a context on every lookup).
            let data = exten.contains(where: { $0 == "-" || $0 == " " }) ? Self.stripSeparators(exten) : exten
            switch mode {
            case .match: return data == literal ? .yes : .no
            case .canMatch: return literal.hasPrefix(data) ? .yes : .no
            case .matchMore: return literal.count > data.count && literal.hasPrefix(data) ? .yes : .no
            }
        }
        if let fit = fitASCII(exten.utf8, mode: mode) { return fit }
        var data = Substring(exten)
        for element in elements {
            // Asterisk skips separators in the pattern, never in the dialed string.
            switch element {
            case .oneOrMore:
                if data.isEmpty { return mode == .match ? .no : .yes }
                return .yes
            case .zeroOrMore:
                return .early
            case .set(let members):
                guard let first = data.first else {
                    // Ran out of dialed characters with pattern left: a partial match.
                    return mode == .match ? .no : .yes
                }
                guard members.contains(first) else { return .no }
                data = data.dropFirst()
            }
        }
        guard data.isEmpty else { return .no }
        return mode == .matchMore ? .no : .yes
    }

    /// `fit` by byte masks — the per-lookup cost of a context with many patterns — for as far
    /// as the dialed string is printable ASCII, where each byte is a character of its own (the
    /// next byte is ASCII too, so no combining mark joins it). Nil as soon as a position needs
    /// the character-by-character walk.
    private func fitASCII(_ bytes: String.UTF8View, mode: MatchMode) -> Fit? {
        var index = bytes.startIndex
        for mask in masks {
            switch mask {
            case .oneOrMore:
                // Only whether something is left matters, for characters as for bytes.
                if index == bytes.endIndex { return mode == .match ? .no : .yes }
                return .yes
            case .zeroOrMore:
                return .early
            case .set(let low, let high):
                guard index < bytes.endIndex else { return mode == .match ? .no : .yes }
                let byte = bytes[index]
                let next = bytes.index(after: index)
                guard ByteMask.isPrintable(byte), next == bytes.endIndex || bytes[next] < 0x80 else { return nil }
                let bit = byte < 64 ? low >> byte : high >> (byte - 64)
                guard bit & 1 == 1 else { return .no }
                index = next
            }
        }
        guard index == bytes.endIndex else { return .no }
        return mode == .matchMore ? .no : .yes
    }

    /// One pattern position as a 128-bit set of ASCII bytes (members outside ASCII never match a
    /// printable-ASCII string, so they are left out).
    enum ByteMask: Sendable, Hashable {
        case set(low: UInt64, high: UInt64)
        case oneOrMore
        case zeroOrMore

        init(_ element: Element) {
            switch element {
            case .oneOrMore: self = .oneOrMore
            case .zeroOrMore: self = .zeroOrMore
            case .set(let members):
                var low: UInt64 = 0, high: UInt64 = 0
                for member in members {
                    guard let ascii = member.asciiValue, member.unicodeScalars.count == 1 else { continue }
                    if ascii < 64 { low |= 1 << ascii } else { high |= 1 << (ascii - 64) }
                }
                self = .set(low: low, high: high)
            }
        }

        /// Whether a set position accepts `byte` (wildcards are answered by the caller).
        func contains(_ byte: UInt8) -> Bool {
            guard case .set(let low, let high) = self else { return false }
            return (byte < 64 ? low >> byte : high >> (byte - 64)) & 1 == 1
        }

        /// `!`...`~`: bytes that are whole characters on their own (no CR/LF pairs, no spaces).
        static func isPrintable(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }
    }

    /// Whether `exten` matches now (`E_MATCH`).
    public func matches(_ exten: String) -> Bool {
        fit(exten, mode: .match) != .no
    }

    // MARK: Ordering (ext_cmp)

    /// The sort weight of one position: sets by size then members, then `.`, then `!`.
    private static func rank(_ element: Element) -> (Int, Int, [Character]) {
        switch element {
        case .set(let members): (0, members.count, members)
        case .oneOrMore: (1, 0, [])
        case .zeroOrMore: (2, 0, [])
        }
    }

    public static func < (lhs: ExtensionPattern, rhs: ExtensionPattern) -> Bool {
        switch (lhs.isPattern, rhs.isPattern) {
        case (false, true): return true
        case (true, false): return false
        case (false, false):
            return lhs.literal.unicodeScalars.lexicographicallyPrecedes(rhs.literal.unicodeScalars)
        case (true, true):
            for (left, right) in zip(lhs.elements, rhs.elements) {
                let a = rank(left), b = rank(right)
                if a.0 != b.0 { return a.0 < b.0 }
                if a.1 != b.1 { return a.1 < b.1 }
                if a.2 != b.2 {
                    return String(a.2).unicodeScalars.lexicographicallyPrecedes(String(b.2).unicodeScalars)
                }
            }
            return lhs.elements.count < rhs.elements.count
        }
    }

    /// Identifies what a name matches, ignoring how it was written (for duplicate detection).
    struct MatchKey: Hashable {
        var isPattern: Bool
        var elements: [Element]
        var literal: String
    }

    var matchKey: MatchKey { MatchKey(isPattern: isPattern, elements: elements, literal: literal) }

    /// Two names that match exactly the same strings (`_1-XX` and `_1XX`, `10-01` and `1001`)
    /// are the same extension to Asterisk.
    public func isEquivalent(to other: ExtensionPattern) -> Bool {
        isPattern == other.isPattern && elements == other.elements && literal == other.literal
    }
}

/// A malformed extension pattern (the loader wraps it in a `ConfigError` with file:line).
public struct PatternError: Error, Sendable, CustomStringConvertible {
    public var pattern: String
    public var reason: String
    public var description: String { "bad extension pattern '\(pattern)': \(reason)" }
}

/// Extension names with a meaning to the PBX core, as in Asterisk.
public enum SpecialExtension {
    /// Where a call without a dialed number starts.
    public static let start = "s"
    /// Where a call goes when it is sent to an extension that doesn't exist.
    public static let invalid = "i"
    /// Where a response timeout goes (WaitExten/Background; used by the IVR).
    public static let timeout = "t"
    /// Runs after the call has hung up (CDR tidy-up, CRM notifications).
    public static let hangup = "h"
    /// Absolute timeout (`TIMEOUT(absolute)`), for later.
    public static let absoluteTimeout = "T"
    /// The names above, for listings and warnings.
    public static let all: Set<String> = [start, invalid, timeout, hangup, absoluteTimeout, "o", "a", "e", "fax"]
}
