import Foundation

/// The `$[...]` expression language, the commonly used subset of Asterisk's `ast_expr2`:
///
/// - arithmetic `+ - * / %` (floating point like Asterisk ≥ 1.6: `$[7/2]` is `3.5`; integral
///   results print without a decimal point), unary `-` on numbers and `!` (logical not);
/// - comparisons `= == != < > <= >=` (numeric when both sides are numbers, else string order),
///   giving `1` or `0`;
/// - `|` (left if true, else right) and `&` (left if both true, else `0`), where "true" means
///   non-empty and not `0`;
/// - `cond ? a :: b`, parentheses, double-quoted strings;
/// - `str : regex` (anchored at the start) and `str =~ regex`, which give the first capture
///   group, or the matched length when the regex has no group.
///
/// Not yet: dialplan functions inside expressions (`FLOOR`, `SQRT`, …) and `,` — the full
/// language is a later issue. A syntax error throws; the caller logs it and substitutes "".
public enum DialplanExpression {
    public struct SyntaxError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func evaluate(_ text: String) throws(SyntaxError) -> String {
        var parser = Parser(tokens: try tokenize(text))
        if parser.tokens.isEmpty { return "" }
        let value = try parser.parseTernary()
        guard parser.position == parser.tokens.count else {
            throw SyntaxError(description: "unexpected '\(parser.tokens[parser.position])'")
        }
        return value
    }

    /// Whether a value counts as true in `GotoIf`/`|`/`&`/`?` (Asterisk `pbx_checkcondition`).
    public static func isTrue(_ value: String) -> Bool {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return false }
        if let number = Double(trimmed) { return number != 0 }
        return true
    }

    enum Token: Equatable, CustomStringConvertible {
        case op(String)
        case word(String)
        var description: String {
            switch self {
            case .op(let text), .word(let text): text
            }
        }
    }

    static let operators = ["::", "==", "!=", "<=", ">=", "=~", "(", ")", "|", "&", "=", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":"]

    static func tokenize(_ text: String) throws(SyntaxError) -> [Token] {
        var tokens: [Token] = []
        var rest = Substring(text)
        var word = ""
        func flush() {
            if !word.isEmpty { tokens.append(.word(word)); word = "" }
        }
        while let ch = rest.first {
            if ch == " " || ch == "\t" || ch == "\n" {
                flush()
                rest = rest.dropFirst()
                continue
            }
            if ch == "\"" {
                flush()
                guard let close = rest.dropFirst().firstIndex(of: "\"") else {
                    throw SyntaxError(description: "unterminated string")
                }
                tokens.append(.word(String(rest[rest.index(after: rest.startIndex)..<close])))
                rest = rest[rest.index(after: close)...]
                continue
            }
            if let op = operators.first(where: { rest.hasPrefix($0) }) {
                flush()
                tokens.append(.op(op))
                rest = rest.dropFirst(op.count)
                continue
            }
            word.append(ch)
            rest = rest.dropFirst()
        }
        flush()
        return tokens
    }

    /// Recursive descent, lowest precedence first (as in ast_expr2.y).
    struct Parser {
        var tokens: [Token]
        var position = 0
        /// Nesting of parentheses, unary operators and `?`: caller-supplied text (a caller ID
        /// name inside `$[...]`) must not be able to exhaust the stack.
        private var depth = 0
        static let maxDepth = 64

        init(tokens: [Token]) {
            self.tokens = tokens
        }

        private mutating func descend() throws(SyntaxError) {
            depth += 1
            guard depth <= Self.maxDepth else { throw SyntaxError(description: "expression nested too deeply") }
        }

        private var peek: Token? { position < tokens.count ? tokens[position] : nil }

        private mutating func accept(_ ops: String...) -> String? {
            if case .op(let op)? = peek, ops.contains(op) {
                position += 1
                return op
            }
            return nil
        }

        mutating func parseTernary() throws(SyntaxError) -> String {
            try descend()
            defer { depth -= 1 }
            let condition = try parseOr()
            guard accept("?") != nil else { return condition }
            let whenTrue = try parseTernary()
            guard accept("::") != nil else { throw SyntaxError(description: "'?' without '::'") }
            let whenFalse = try parseTernary()
            return isTrue(condition) ? whenTrue : whenFalse
        }

        mutating func parseOr() throws(SyntaxError) -> String {
            var left = try parseAnd()
            while accept("|") != nil {
                let right = try parseAnd()
                left = isTrue(left) ? left : right
            }
            return left
        }

        mutating func parseAnd() throws(SyntaxError) -> String {
            var left = try parseComparison()
            while accept("&") != nil {
                let right = try parseComparison()
                left = isTrue(left) && isTrue(right) ? left : "0"
            }
            return left
        }

        mutating func parseComparison() throws(SyntaxError) -> String {
            var left = try parseAdditive()
            while let op = accept("=", "==", "!=", "<", ">", "<=", ">=") {
                let right = try parseAdditive()
                let order: Int
                if let a = number(left), let b = number(right) {
                    order = a < b ? -1 : (a > b ? 1 : 0)
                } else {
                    order = left < right ? -1 : (left > right ? 1 : 0)
                }
                let result: Bool = switch op {
                case "=", "==": order == 0
                case "!=": order != 0
                case "<": order < 0
                case ">": order > 0
                case "<=": order <= 0
                default: order >= 0
                }
                left = result ? "1" : "0"
            }
            return left
        }

        mutating func parseAdditive() throws(SyntaxError) -> String {
            var left = try parseMultiplicative()
            while let op = accept("+", "-") {
                let right = try parseMultiplicative()
                left = try arithmetic(left, op, right)
            }
            return left
        }

        mutating func parseMultiplicative() throws(SyntaxError) -> String {
            var left = try parseUnary()
            while let op = accept("*", "/", "%") {
                let right = try parseUnary()
                left = try arithmetic(left, op, right)
            }
            return left
        }

        mutating func parseUnary() throws(SyntaxError) -> String {
            try descend()
            defer { depth -= 1 }
            if accept("!") != nil {
                return isTrue(try parseUnary()) ? "0" : "1"
            }
            if accept("-") != nil {
                let operand = try parseUnary()
                guard let value = number(operand) else { throw SyntaxError(description: "non-numeric argument '\(operand)' to '-'") }
                return format(-value)
            }
            return try parseRegex()
        }

        mutating func parseRegex() throws(SyntaxError) -> String {
            var left = try parsePrimary()
            while let op = accept(":", "=~") {
                let right = try parsePrimary()
                left = try regexMatch(left, pattern: right, anchored: op == ":")
            }
            return left
        }

        mutating func parsePrimary() throws(SyntaxError) -> String {
            guard let token = peek else { throw SyntaxError(description: "unexpected end of expression") }
            position += 1
            switch token {
            case .word(let text):
                return text
            case .op("("):
                let value = try parseTernary()
                guard accept(")") != nil else { throw SyntaxError(description: "missing ')'") }
                return value
            case .op(let op):
                throw SyntaxError(description: "unexpected '\(op)'")
            }
        }

        private func number(_ text: String) -> Double? {
            Double(text.trimmingCharacters(in: .whitespaces))
        }

        private func arithmetic(_ left: String, _ op: String, _ right: String) throws(SyntaxError) -> String {
            guard let a = number(left), let b = number(right) else {
                throw SyntaxError(description: "non-numeric argument to '\(op)' ('\(left)', '\(right)')")
            }
            switch op {
            case "+": return format(a + b)
            case "-": return format(a - b)
            case "*": return format(a * b)
            case "/":
                guard b != 0 else { throw SyntaxError(description: "division by zero") }
                return format(a / b)
            default:
                guard b != 0 else { throw SyntaxError(description: "division by zero") }
                return format(a.truncatingRemainder(dividingBy: b))
            }
        }

        private func format(_ value: Double) -> String {
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        }

        private func regexMatch(_ text: String, pattern: String, anchored: Bool) throws(SyntaxError) -> String {
            let regex: NSRegularExpression
            do {
                regex = try NSRegularExpression(pattern: anchored ? "^(?:\(pattern))" : pattern)
            } catch {
                throw SyntaxError(description: "bad regular expression '\(pattern)'")
            }
            let range = NSRange(text.startIndex..., in: text)
            guard let match = regex.firstMatch(in: text, range: range) else {
                return regex.numberOfCaptureGroups > 0 ? "" : "0"
            }
            if regex.numberOfCaptureGroups > 0 {
                let group = match.range(at: 1)
                guard group.location != NSNotFound, let swiftRange = Range(group, in: text) else { return "" }
                return String(text[swiftRange])
            }
            return String(match.range.length)
        }
    }
}
