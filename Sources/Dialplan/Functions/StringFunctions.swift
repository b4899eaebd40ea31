import Foundation

/// `CUT`, `FIELDQTY`, `TOUPPER`, `TOLOWER`, `REGEX` (Asterisk `func_cut`, `func_strings`).
enum StringFunctions {
    static let all: [DialplanFunction] = [cut, fieldQuantity, toUpper, toLower, regex]

    /// `CUT(varname,char-delim,range-spec)`: fields of a variable's value (1-based). The range
    /// spec is `n`, `n-m`, `n-` (to the end), `-m` (from the first), several joined by `&`;
    /// the chosen fields are joined with the delimiter. The delimiter defaults to `-`.
    static let cut = DialplanFunction(name: "CUT") { execution, arguments in
        let fields = ArgumentSplitter.split(arguments)
        guard fields.count == 3, !fields[0].isEmpty else {
            throw DialplanError("CUT: syntax is CUT(<varname>,<char-delim>,<range-spec>)")
        }
        let delimiter = fields[1].first ?? "-"
        let value = await execution.value(of: fields[0].trimmingCharacters(in: .whitespaces)) ?? ""
        let parts = value.split(separator: delimiter, omittingEmptySubsequences: false)
        var chosen: [Substring] = []
        for range in fields[2].split(separator: "&") {
            guard let (first, last) = parseRange(range.trimmingCharacters(in: .whitespaces)) else {
                throw DialplanError("CUT: invalid field range '\(range)' (use n, n-m, n- or -m)")
            }
            guard first <= parts.count else { continue }
            chosen += parts[(first - 1)..<min(last, parts.count)]
        }
        return chosen.joined(separator: String(delimiter))
    }

    /// `n`, `n-m`, `n-`, `-m` → 1-based inclusive bounds (`Int.max` for "to the end").
    static func parseRange(_ text: String) -> (Int, Int)? {
        guard !text.isEmpty else { return nil }
        guard let dash = text.firstIndex(of: "-") else {
            guard let n = Int(text), n > 0 else { return nil }
            return (n, n)
        }
        let head = text[..<dash], tail = text[text.index(after: dash)...]
        let first = head.isEmpty ? 1 : Int(head)
        let last = tail.isEmpty ? Int.max : Int(tail)
        guard let first, let last, first > 0, last >= first else { return nil }
        return (first, last)
    }

    /// `FIELDQTY(varname,delim)`: how many fields the variable's value has (0 when empty);
    /// every character of `delim` separates.
    static let fieldQuantity = DialplanFunction(name: "FIELDQTY") { execution, arguments in
        let fields = ArgumentSplitter.split(arguments)
        guard fields.count == 2, !fields[0].isEmpty else {
            throw DialplanError("FIELDQTY: syntax is FIELDQTY(<varname>,<delim>)")
        }
        let value = await execution.value(of: fields[0].trimmingCharacters(in: .whitespaces)) ?? ""
        guard !value.isEmpty else { return "0" }
        guard !fields[1].isEmpty else { return "1" }
        let separators = Set(fields[1])
        return String(value.split(omittingEmptySubsequences: false) { separators.contains($0) }.count)
    }

    static let toUpper = DialplanFunction(name: "TOUPPER") { _, arguments in arguments.uppercased() }
    static let toLower = DialplanFunction(name: "TOLOWER") { _, arguments in arguments.lowercased() }

    /// `REGEX("regular expression" string)`: `1` if the expression matches anywhere in the
    /// string, else `0`. One space or tab after the closing quote is not part of the string.
    static let regex = DialplanFunction(name: "REGEX") { _, arguments in
        guard let open = arguments.firstIndex(of: "\""),
              let close = arguments[arguments.index(after: open)...].firstIndex(of: "\"") else {
            throw DialplanError("REGEX: unexpected arguments: should have been in the form '\"<regex>\" <string>'")
        }
        let pattern = String(arguments[arguments.index(after: open)..<close])
        var subject = arguments[arguments.index(after: close)...]
        if subject.first == " " || subject.first == "\t" { subject = subject.dropFirst() }
        let expression: NSRegularExpression
        do {
            expression = try NSRegularExpression(pattern: pattern)
        } catch {
            throw DialplanError("REGEX: malformed regular expression '\(pattern)'")
        }
        let text = String(subject)
        return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil ? "0" : "1"
    }
}
