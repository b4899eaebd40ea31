/// Splits application arguments the way Asterisk's `AST_STANDARD_APP_ARGS` does
/// (`__ast_app_separate_args` with quote/escape removal).
///
/// A separator splits only outside parentheses, brackets and double quotes; `\` makes the next
/// character literal (`\,` is a comma inside one argument). Quotes and escaping backslashes are
/// removed from the result. An empty string gives one empty argument, as in Asterisk, so
/// `Hangup()` and `Hangup` both see `[""]`.
public enum ArgumentSplitter {
    /// With `removingQuotes` false, quotes and backslashes stay in the arguments (Asterisk's
    /// `AST_STANDARD_RAW_ARGS`, used for Gosub arguments); they still protect separators.
    public static func split(_ text: String, separator: Character = ",", removingQuotes: Bool = true) -> [String] {
        var arguments: [String] = []
        var current = ""
        var parenDepth = 0
        var bracketDepth = 0
        var inQuotes = false
        var escaped = false
        for ch in text {
            if escaped {
                current.append(ch)
                escaped = false
                continue
            }
            switch ch {
            case "\\":
                escaped = true
                if !removingQuotes { current.append(ch) }
            case "\"":
                inQuotes.toggle()
                if !removingQuotes { current.append(ch) }
            case "(" where !inQuotes:
                parenDepth += 1
                current.append(ch)
            case ")" where !inQuotes:
                parenDepth = max(0, parenDepth - 1)
                current.append(ch)
            case "[" where !inQuotes:
                bracketDepth += 1
                current.append(ch)
            case "]" where !inQuotes:
                bracketDepth = max(0, bracketDepth - 1)
                current.append(ch)
            case separator where !inQuotes && parenDepth == 0 && bracketDepth == 0:
                arguments.append(current)
                current = ""
            default:
                current.append(ch)
            }
        }
        if escaped, removingQuotes { current.append("\\") }
        arguments.append(current)
        return arguments
    }

    /// Splits at the first `separator` outside parentheses, quotes and `$[...]`/`${...}`, without
    /// removing anything (for `Set(name=value)`, `GotoIf(cond?a:b)` and `a:b`).
    static func splitOnce(_ text: String, at separator: Character) -> (String, String?) {
        var depth = 0
        var inQuotes = false
        var previous: Character = " "
        for index in text.indices {
            let ch = text[index]
            defer { previous = ch }
            if previous == "\\" { continue }
            switch ch {
            case "\"": inQuotes.toggle()
            case "(", "[", "{": if !inQuotes { depth += 1 }
            case ")", "]", "}": if !inQuotes { depth = max(0, depth - 1) }
            case separator where depth == 0 && !inQuotes:
                return (String(text[..<index]), String(text[text.index(after: index)...]))
            default: break
            }
        }
        return (text, nil)
    }
}

extension Duration {
    /// The longest time any dialplan argument may ask for (a year): `Wait(1e300)` must not
    /// overflow, and nothing in a call waits longer.
    static let dialplanMaximum: Duration = .seconds(365 * 24 * 3600)

    /// A dialplan seconds argument (`Wait(2.5)`, Dial's timeout): nil unless it is a finite
    /// number > 0; clamped to `dialplanMaximum`.
    static func dialplanSeconds(_ text: String) -> Duration? {
        guard let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds > 0 else { return nil }
        let maximum = Double(dialplanMaximum.components.seconds)
        return .milliseconds(Int64((min(seconds, maximum) * 1000).rounded()))
    }
}
