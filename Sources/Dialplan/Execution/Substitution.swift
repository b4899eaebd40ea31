/// `${...}` and `$[...]` expansion, following Asterisk's `pbx_substitute_variables_helper`:
///
/// - `${NAME}` is replaced by the variable's value, `${FUNC(args)}` by the function's result;
///   an unset variable expands to the empty string.
/// - The name itself is expanded first, so `${${X}}` and `${CALLERID(${WHICH})}` work.
/// - `${NAME:offset:length}` takes a substring: a negative offset counts from the end, a
///   negative length leaves that many characters off the end, no length means "to the end".
/// - `$[expr]` is expanded inside, then evaluated by `DialplanExpression` (a syntax error is
///   reported and gives `0`, as in Asterisk).
/// - Values are not expanded again (a global holding `${X}` yields the text `${X}`).
enum Substitution {
    /// Everything a substitution needs from its surroundings.
    struct Environment {
        /// Resolves `NAME` or `FUNC(args)` (already expanded) to its value.
        var lookup: (String) async -> String?
        /// Reports a problem (unterminated `${`, bad `$[...]`).
        var report: (String) -> Void
    }

    static func substitute(_ text: String, in environment: Environment) async -> String {
        guard text.contains("$") else { return text }
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            let ch = text[index]
            let next = text.index(after: index)
            guard ch == "$", next < text.endIndex, text[next] == "{" || text[next] == "[" else {
                output.append(ch)
                index = next
                continue
            }
            let isExpression = text[next] == "["
            let bodyStart = text.index(after: next)
            let (bodyEnd, closed) = matchingClose(in: text, from: bodyStart, open: isExpression ? "[" : "{", close: isExpression ? "]" : "}")
            if !closed {
                environment.report("Error in extension logic (missing '\(isExpression ? "]" : "}")') in '\(text)'")
            }
            let inner = await substitute(String(text[bodyStart..<bodyEnd]), in: environment)
            if isExpression {
                var warnings: [String] = []
                do {
                    output += try await DialplanExpression.evaluate(inner, warnings: &warnings) { name, arguments in
                        await environment.lookup("\(name)(\(arguments))")
                    }
                } catch {
                    // Asterisk's ast_str_expr gives "0" when the parse fails.
                    environment.report("syntax error in expression '$[\(inner)]': \(error)")
                    output += "0"
                }
                for warning in warnings { environment.report("in expression '$[\(inner)]': \(warning)") }
            } else {
                output += await expandVariable(inner, in: environment)
            }
            index = closed ? text.index(after: bodyEnd) : bodyEnd
        }
        return output
    }

    /// The index of the bracket closing the one before `start` (or `endIndex` if none).
    private static func matchingClose(in text: String, from start: String.Index, open: Character, close: Character) -> (String.Index, Bool) {
        var depth = 1
        var index = start
        while index < text.endIndex {
            let ch = text[index]
            if ch == open {
                depth += 1
            } else if ch == close {
                depth -= 1
                if depth == 0 { return (index, true) }
            }
            index = text.index(after: index)
        }
        return (text.endIndex, false)
    }

    /// `NAME`, `NAME:offset`, `NAME:offset:length`, `FUNC(args):offset:length`.
    private static func expandVariable(_ spec: String, in environment: Environment) async -> String {
        let (name, offsetText, lengthText) = splitSubstringSpec(spec)
        let value = await environment.lookup(name) ?? ""
        guard let offsetText else { return value }
        return substring(value, offset: asteriskInt(offsetText), length: lengthText.map(asteriskInt))
    }

    /// Splits at `:` outside parentheses (a function's arguments may contain colons).
    static func splitSubstringSpec(_ spec: String) -> (String, String?, String?) {
        var depth = 0
        var colons: [String.Index] = []
        for index in spec.indices {
            switch spec[index] {
            case "(": depth += 1
            case ")": depth = max(0, depth - 1)
            case ":" where depth == 0: colons.append(index)
            default: break
            }
            if colons.count == 2 { break }
        }
        guard let first = colons.first else { return (spec, nil, nil) }
        let name = String(spec[..<first])
        if colons.count == 1 {
            return (name, String(spec[spec.index(after: first)...]), nil)
        }
        let second = colons[1]
        return (name, String(spec[spec.index(after: first)..<second]), String(spec[spec.index(after: second)...]))
    }

    /// `atoi`: leading sign and digits, anything else ends the number (empty → 0).
    static func asteriskInt(_ text: String) -> Int {
        let trimmed = text.drop { $0 == " " }
        var sign = 1
        var digits = trimmed[...]
        if let first = digits.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            digits = digits.dropFirst()
        }
        return sign * (Int(digits.prefix { $0.isASCII && $0.isNumber }) ?? 0)
    }

    /// Asterisk's `substring()` rules for `${VAR:offset:length}`.
    static func substring(_ value: String, offset: Int, length: Int?) -> String {
        let characters = Array(value)
        let count = characters.count
        var start = offset
        if start < 0 {
            start = max(0, count + start)
        }
        guard start < count else { return "" }
        var end = count
        if let length {
            if length >= 0 {
                end = length >= count - start ? count : start + length
            } else {
                end = count + length
                if end <= start { return "" }
            }
        }
        return String(characters[start..<end])
    }
}
