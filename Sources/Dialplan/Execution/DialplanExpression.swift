import Foundation

/// The `$[...]` expression language with the operators, precedence and value rules of
/// Asterisk's `ast_expr2` (Asterisk 18), lowest precedence first:
///
/// | operators                        | meaning                                                  |
/// |----------------------------------|----------------------------------------------------------|
/// | `a ? b :: c`                     | `b` if `a` is true, else `c` (left-associative, as in the yacc grammar) |
/// | `\|` `\|\|`                      | `a` unless it is empty or zero, else `b`                 |
/// | `&` `&&`                         | `a` when both are non-empty and non-zero, else `0`       |
/// | `=` `==` `!=` `<` `>` `<=` `>=`  | `1`/`0`; numeric when neither side is a string, else byte order |
/// | `+` `-`                          | arithmetic (a non-numeric side is skipped, with a warning) |
/// | `*` `/` `%`                      | arithmetic; `/` by zero gives 2147483647, `%` by zero 0 (warning) |
/// | unary `-`, `!`                   | negation; `!` is 1 for empty, `0` or a leading-zero `atoi` |
/// | `:` `=~` `~~`                    | anchored / unanchored regex match; string concatenation  |
/// | `( )`                            | grouping                                                 |
///
/// Values keep Asterisk's three kinds: numbers (results of arithmetic and comparisons),
/// numeric strings (a token that is digits with an optional fraction, `12` or `1.5`) and
/// strings (everything else, including double-quoted tokens, which keep their quotes: so
/// `$["a" = a]` is `0`, `$["${X}" = "foo"]` is the idiom, and `$["a b"]` gives `"a b"`).
/// Comparisons are numeric only when neither side is a string; `:` / `=~` / `~~` strip the
/// quotes of both sides first.
///
/// Functions work inside the brackets as in Asterisk: the math ones built in
/// (`$[FLOOR(${X} / 2)]`, `POW(2,10)`), any other upper-case name through the dialplan's
/// function registry (`$[LEN(abc) + 1]`).
///
/// Known differences: numbers are `Double` (Asterisk uses `long double` and prints 18
/// significant digits), and regular expressions are ICU (Foundation), not POSIX ERE (`a|ab`
/// is leftmost-first instead of leftmost-longest).
///
/// A syntax error throws; `Substitution` logs it and substitutes `0`, as Asterisk's
/// `ast_str_expr` does when the parse fails. Soft problems (non-numeric argument, division by
/// zero, bad regex) are returned as warnings next to a result, as Asterisk logs them.
public enum DialplanExpression {
    public struct SyntaxError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Reads a dialplan function for `$[NAME(args)]`: `(name, arguments) → value`, nil when
    /// there is no such function.
    public typealias FunctionCaller = (_ name: String, _ arguments: String) async -> String?

    /// Evaluates `text`, dropping warnings.
    public static func evaluate(_ text: String, functions: FunctionCaller? = nil) async throws(SyntaxError) -> String {
        var warnings: [String] = []
        return try await evaluate(text, warnings: &warnings, functions: functions)
    }

    /// Evaluates `text`, appending what Asterisk would log as warnings to `warnings`.
    /// `functions` resolves dialplan functions used inside the expression.
    public static func evaluate(_ text: String, warnings: inout [String], functions: FunctionCaller? = nil) async throws(SyntaxError) -> String {
        var parser = Parser(tokens: try tokenize(text))
        parser.functions = functions
        // An empty expression is the empty string (ast_expr2's empty `start` rule).
        if parser.tokens.isEmpty { return "" }
        let value = try await parser.parseExpression()
        guard parser.position == parser.tokens.count else {
            throw SyntaxError(description: "unexpected '\(parser.tokens[parser.position])'")
        }
        warnings += parser.warnings
        return value.text
    }

    /// Whether a value counts as true in `GotoIf`, `ExecIf`, `IF()`, `While` (Asterisk
    /// `pbx_checkcondition`): empty is false; text starting with an integer (`sscanf("%d")`,
    /// so `0.5` and `0abc` read as 0) is that integer; any other text is true.
    public static func isTrue(_ value: String) -> Bool {
        let trimmed = value.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        if trimmed.isEmpty { return false }
        var digits = trimmed
        if let sign = digits.first, sign == "-" || sign == "+" { digits = digits.dropFirst() }
        let leading = digits.prefix { $0.isASCII && $0.isNumber }
        guard !leading.isEmpty else { return true }
        return leading.contains { $0 != "0" }
    }

    // MARK: Values

    /// One of ast_expr2's `struct val` kinds.
    enum Value: Equatable {
        case number(Double)
        case numericString(String)
        case string(String)

        /// `make_str`: digits and dots only is a numeric string, anything else a string.
        init(made text: String) {
            let isNumeric = !text.isEmpty && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }
            self = isNumeric ? .numericString(text) : .string(text)
        }

        var text: String {
            switch self {
            case .number(let value): Value.format(value)
            case .numericString(let text), .string(let text): text
            }
        }

        var isString: Bool {
            if case .string = self { return true }
            return false
        }

        /// `to_number`: numbers and numeric strings convert (with `strtod`); strings don't.
        var number: Double? {
            switch self {
            case .number(let value): value
            case .numericString(let text): strtod(text, nil)
            case .string: nil
            }
        }

        /// `to_number` done in place, as ast_expr2 does before returning an operand.
        var converted: Value {
            if case .numericString = self, let value = number { return .number(value) }
            return self
        }

        /// `is_zero_or_null`: the number 0, or empty text, or a numeric string worth 0.
        var isZeroOrNull: Bool {
            switch self {
            case .number(let value): value == 0
            case .numericString(let text): text.isEmpty || strtod(text, nil) == 0
            case .string(let text): text.isEmpty
            }
        }

        /// Asterisk prints `%.18Lg` of a long double; with a double, integral values print
        /// whole and others with 15 significant digits, so `0.1 + 0.2` is `0.3` as there.
        static func format(_ value: Double) -> String {
            if value == value.rounded(), abs(value) < 9e18 { return String(Int64(value)) }
            return String(format: "%.15g", value)
        }

        /// `strip_quotes`: when the text starts and ends with `"`, every `"` in it is removed.
        var unquoted: String {
            let text = self.text
            guard text.count >= 1, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
            return text.filter { $0 != "\"" }
        }
    }

    // MARK: Tokens

    enum Token: Equatable, CustomStringConvertible {
        case op(String)
        case value(Value)
        var description: String {
            switch self {
            case .op(let text): text
            case .value(let value): value.text
            }
        }
    }

    /// Longest first, so `==` is not read as `=` `=`.
    static let operators = ["::", "==", "!=", "<=", ">=", "=~", "~~", "||", "&&",
                            "(", ")", "|", "&", "=", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", ","]

    /// ast_expr2.fl: operators, `"quoted strings"` (kept with their quotes), numbers
    /// (`[0-9]+(\.[0-9]+)?` → numeric string) and words (any other run of characters → string).
    static func tokenize(_ text: String) throws(SyntaxError) -> [Token] {
        var tokens: [Token] = []
        var rest = Substring(text)
        var word = ""
        func flush() {
            guard !word.isEmpty else { return }
            tokens.append(.value(isNumberToken(word) ? .numericString(word) : .string(word)))
            word = ""
        }
        while let ch = rest.first {
            if ch == " " || ch == "\t" || ch == "\n" || ch == "\r" {
                flush()
                rest = rest.dropFirst()
                continue
            }
            if ch == "\"" {
                flush()
                guard let close = rest.dropFirst().firstIndex(of: "\"") else {
                    throw SyntaxError(description: "unterminated string")
                }
                tokens.append(.value(.string(String(rest[...close]))))
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

    private static func isNumberToken(_ word: String) -> Bool {
        let parts = word.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let digits: (Substring) -> Bool = { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        return parts.allSatisfy(digits)
    }

    // MARK: Parser

    /// Recursive descent with one function per precedence level of ast_expr2.y.
    struct Parser {
        var tokens: [Token]
        var position = 0
        var warnings: [String] = []
        /// Calls a dialplan function by name with its argument text; nil when there is none.
        var functions: FunctionCaller?
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

        /// `a ? b :: c`, left-associative like the other binary operators in ast_expr2.y: the
        /// middle part is a whole expression (it ends at `::`), the last one binds tighter.
        mutating func parseExpression() async throws(SyntaxError) -> Value {
            try descend()
            defer { depth -= 1 }
            var condition = try await parseOr()
            while accept("?") != nil {
                let whenTrue = try await parseExpression()
                guard accept("::") != nil else { throw SyntaxError(description: "'?' without '::'") }
                let whenFalse = try await parseOr()
                condition = Self.conditionHolds(condition) ? whenTrue : whenFalse
            }
            return condition
        }

        /// `op_cond`: a string is true unless empty, `""` or `0`; anything else by its number.
        static func conditionHolds(_ value: Value) -> Bool {
            switch value {
            case .string(let text): !text.isEmpty && text != "\"\"" && text != "0"
            default: (value.number ?? 0) != 0
            }
        }

        mutating func parseOr() async throws(SyntaxError) -> Value {
            var left = try await parseAnd()
            while accept("|", "||") != nil {
                let right = try await parseAnd()
                left = left.isZeroOrNull ? right : left.converted
            }
            return left
        }

        mutating func parseAnd() async throws(SyntaxError) -> Value {
            var left = try await parseComparison()
            while accept("&", "&&") != nil {
                let right = try await parseComparison()
                left = left.isZeroOrNull || right.isZeroOrNull ? .number(0) : left.converted
            }
            return left
        }

        mutating func parseComparison() async throws(SyntaxError) -> Value {
            var left = try await parseAdditive()
            while let op = accept("=", "==", "!=", "<", ">", "<=", ">=") {
                let right = try await parseAdditive()
                let order: Int
                if !left.isString, !right.isString, let a = left.number, let b = right.number {
                    order = a < b ? -1 : (a > b ? 1 : 0)
                } else {
                    // strcoll in the C locale: byte order.
                    let a = Array(left.text.utf8), b = Array(right.text.utf8)
                    order = a == b ? 0 : (a.lexicographicallyPrecedes(b) ? -1 : 1)
                }
                let result: Bool = switch op {
                case "=", "==": order == 0
                case "!=": order != 0
                case "<": order < 0
                case ">": order > 0
                case "<=": order <= 0
                default: order >= 0
                }
                left = .number(result ? 1 : 0)
            }
            return left
        }

        mutating func parseAdditive() async throws(SyntaxError) -> Value {
            var left = try await parseMultiplicative()
            while let op = accept("+", "-") {
                let right = try await parseMultiplicative()
                left = arithmetic(left, op, right)
            }
            return left
        }

        mutating func parseMultiplicative() async throws(SyntaxError) -> Value {
            var left = try await parseUnary()
            while let op = accept("*", "/", "%") {
                let right = try await parseUnary()
                left = arithmetic(left, op, right)
            }
            return left
        }

        mutating func parseUnary() async throws(SyntaxError) -> Value {
            try descend()
            defer { depth -= 1 }
            if accept("!") != nil {
                return .number(Self.complementIsZero(try await parseUnary()) ? 1 : 0)
            }
            if accept("-") != nil {
                let operand = try await parseUnary()
                guard let value = operand.number else {
                    warnings.append("non-numeric argument '\(operand.text)' to unary '-'")
                    return .number(0)
                }
                return .number(-value)
            }
            return try await parseRegex()
        }

        /// `op_compl`: true (→ `!` gives 0) for a non-zero number; for text, false when empty
        /// or `0`, else `atoi` decides — so `!abc` and `!0.5` are `1` in Asterisk too.
        static func complementIsZero(_ value: Value) -> Bool {
            switch value {
            case .number(let number): return number == 0
            case .numericString(let text), .string(let text):
                if text.isEmpty || text == "0" { return true }
                return Substitution.asteriskInt(text) == 0
            }
        }

        mutating func parseRegex() async throws(SyntaxError) -> Value {
            var left = try await parsePrimary()
            while let op = accept(":", "=~", "~~") {
                let right = try await parsePrimary()
                if op == "~~" {
                    left = Value(made: left.unquoted + right.unquoted)
                } else {
                    left = regexMatch(left.unquoted, pattern: right.unquoted, anchored: op == ":")
                }
            }
            return left
        }

        mutating func parsePrimary() async throws(SyntaxError) -> Value {
            guard let token = peek else { throw SyntaxError(description: "unexpected end of expression") }
            position += 1
            switch token {
            case .value(.string(let name)) where peek == .op("("):
                position += 1
                var arguments = [try await parseExpression()]
                while accept(",") != nil {
                    // `f(a,)`: an empty last argument, as ast_expr2's arglist allows.
                    arguments.append(peek == .op(")") ? .string("") : try await parseExpression())
                }
                guard accept(")") != nil else { throw SyntaxError(description: "missing ')' after arguments of \(name)") }
                return await callFunction(name, arguments)
            case .value(let value):
                return value
            case .op("("):
                let value = try await parseExpression()
                guard accept(")") != nil else { throw SyntaxError(description: "missing ')'") }
                return value
            case .op(let op):
                throw SyntaxError(description: "unexpected '\(op)'")
            }
        }

        /// ast_expr2's `is_really_num`: only digits, `-`, `.`, spaces and tabs.
        static func isReallyNumber(_ text: String) -> Bool {
            text.allSatisfy { "-0123456789. \t".contains($0) }
        }

        /// ast_expr2's built-in math functions (`FLOOR(x)`, `POW(x,y)`…). A wrong argument
        /// count or an unknown name is a warning and `0`, as there; dialplan functions are
        /// not called from inside `$[...]` here (Asterisk does): write `${FUNC(...)}` instead.
        private mutating func callFunction(_ name: String, _ arguments: [Value]) async -> Value {
            let unary: [String: (Double) -> Double] = [
                "COS": cos, "SIN": sin, "TAN": tan, "ACOS": acos, "ASIN": asin, "ATAN": atan,
                "SQRT": { $0.squareRoot() }, "FLOOR": { $0.rounded(.down) }, "CEIL": { $0.rounded(.up) },
                "ROUND": { $0.rounded(.toNearestOrAwayFromZero) }, "RINT": { $0.rounded(.toNearestOrEven) },
                "TRUNC": { $0.rounded(.towardZero) }, "EXP": exp, "EXP2": exp2, "EXP10": { pow(10, $0) },
                "LOG": log, "LOG2": log2, "LOG10": log10, "ABS": { abs($0) },
            ]
            let binary: [String: (Double, Double) -> Double] = ["ATAN2": atan2, "POW": pow, "REMAINDER": remainder]
            let isMath = unary[name] != nil || binary[name] != nil
            let numbers = arguments.map { argument -> Double in
                if let number = argument.number { return number }
                if isMath { warnings.append("non-numeric argument '\(argument.text)' to \(name)()") }
                return 0
            }
            if let function = unary[name], numbers.count == 1 { return .number(function(numbers[0])) }
            if let function = binary[name], numbers.count == 2 { return .number(function(numbers[0], numbers[1])) }
            if unary[name] != nil || binary[name] != nil {
                warnings.append("wrong number of arguments to \(name)()")
                return .number(0)
            }
            // A dialplan function, called with the arguments joined by commas (as
            // ast_expr2's op_func does); only upper-case names can be functions.
            guard name.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }),
                  let functions, let result = await functions(name, arguments.map(\.text).joined(separator: ",")) else {
                warnings.append("'\(name)' is not an available function")
                return .number(0)
            }
            return Self.isReallyNumber(result) && !result.isEmpty ? .number(strtod(result, nil)) : Value(made: result)
        }

        /// `op_plus` … `op_rem`, including what they return for non-numeric operands.
        private mutating func arithmetic(_ left: Value, _ op: String, _ right: Value) -> Value {
            let a = left.number, b = right.number
            if a == nil || b == nil {
                warnings.append("non-numeric argument to '\(op)' ('\(left.text)' \(op) '\(right.text)')")
            }
            switch op {
            case "+":
                return .number((a ?? 0) + (b ?? 0))
            case "-":
                return .number((a ?? 0) - (b ?? 0))
            case "*":
                guard let a, let b else { return .number(0) }
                return .number(a * b)
            case "/":
                guard let a else { return .number(0) }
                guard let b else { return .number(Double(Int32.max)) }
                guard b != 0 else {
                    warnings.append("division by zero")
                    return .number(Double(Int32.max))
                }
                return .number(a / b)
            default:
                guard let a, let b else { return .number(0) }
                guard b != 0 else {
                    warnings.append("division by zero")
                    return .number(0)
                }
                return .number(fmod(a, b))
            }
        }

        /// `op_colon` / `op_eqtilde`: the first capture group when the pattern has one and it
        /// took part, else the length of the match; no match gives `""` (with a group) or `0`.
        private mutating func regexMatch(_ text: String, pattern: String, anchored: Bool) -> Value {
            let regex: NSRegularExpression
            do {
                regex = try NSRegularExpression(pattern: pattern)
            } catch {
                warnings.append("bad regular expression '\(pattern)'")
                return .string("")
            }
            let range = NSRange(text.startIndex..., in: text)
            guard let match = regex.firstMatch(in: text, range: range), !anchored || match.range.location == 0 else {
                return regex.numberOfCaptureGroups > 0 ? .string("") : .number(0)
            }
            if regex.numberOfCaptureGroups > 0, let group = Range(match.range(at: 1), in: text) {
                return Value(made: String(text[group]))
            }
            return .number(Double(match.range.length))
        }
    }
}
