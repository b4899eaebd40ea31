import Testing
@testable import Dialplan

/// `$[...]` against what Asterisk 18's ast_expr2 gives for the same text (after `${}`
/// substitution, which happens before the expression is parsed).
struct ExpressionTests {
    @Test(arguments: [
        // Arithmetic and its precedence.
        ("1 + 2", "3"),
        ("7 / 2", "3.5"),
        ("7 % 4", "3"),
        ("-7 % 4", "-3"),
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("10 - 2 - 3", "5"),
        ("1.5 * 2", "3"),
        ("0.1 + 0.2", "0.3"),
        ("- 5 + 2", "-3"),
        ("-(2 + 3)", "-5"),
        // Arithmetic binds tighter than comparison, comparison tighter than & and |.
        ("2 * 3 = 6", "1"),
        ("1 + 1 = 2 & 3 > 2", "1"),
        ("1 || 0", "1"),
        ("1 && 0", "0"),
        // | and &: the operand itself, numeric strings converted on the way.
        ("0 | 5", "5"),
        ("3 | 5", "3"),
        ("007 | 5", "7"),
        ("abc & 0", "0"),
        ("abc & def", "abc"),
        ("\"\" | x", "\"\""),
        // Comparisons: numeric when neither side is a string; quoted tokens are strings and
        // keep their quotes.
        ("10 < 9", "0"),
        ("\"10\" < 9", "1"),
        ("abc < abd", "1"),
        ("a10 < a9", "1"),
        ("abc = abc", "1"),
        ("\"abc\" = abc", "0"),
        ("\"abc\" = \"abc\"", "1"),
        ("1.50 = 1.5", "1"),
        ("2 != 2.0", "0"),
        ("B > A", "1"),
        ("10 >= 10", "1"),
        ("9 <= 10", "1"),
        ("1 == 1", "1"),
        ("\"a b\"", "\"a b\""),
        // Unary ! (atoi on text) and -.
        ("!0", "1"),
        ("!5", "0"),
        ("!abc", "1"),
        ("!!7", "1"),
        ("!0.5", "1"),
        // Non-numeric operands and division by zero: what Asterisk returns (with a warning).
        ("- abc", "0"),
        ("abc + 1", "1"),
        ("5 - abc", "5"),
        ("abc * 2", "0"),
        ("abc / 2", "0"),
        ("4 / abc", "2147483647"),
        ("1 / 0", "2147483647"),
        ("5 % 0", "0"),
        // The conditional: left-associative, last operand binding tighter than ::.
        ("1 ? yes :: no", "yes"),
        ("0 ? yes :: no", "no"),
        ("\"\" ? yes :: no", "no"),
        ("abc ? yes :: no", "yes"),
        ("1 ? 2 :: 3 ? 4 :: 5", "4"),
        ("0 ? a :: 1 + 1", "2"),
        ("1 + 1 ? a :: b", "a"),
        // Regex match: anchored `:`, unanchored `=~`, quotes stripped, first group or length.
        ("12345 : 123", "3"),
        ("12345 : 234", "0"),
        ("12345 =~ 234", "3"),
        ("12345 : \"1(2.)\"", "23"),
        ("abc : \"x(.)\"", ""),
        ("\"5551234\" : \"555(.*)\"", "1234"),
        ("2 + 3 : 3", "3"),
        ("- 2 : 2", "-1"),
        // Built-in math functions.
        ("FLOOR(7 / 2)", "3"),
        ("CEIL(7 / 2) * 2", "8"),
        ("ROUND(2.5) + ROUND(-2.5)", "0"),
        ("RINT(2.5)", "2"),
        ("TRUNC(-3.7)", "-3"),
        ("POW(2,10)", "1024"),
        ("SQRT(16) = 4", "1"),
        ("ABS(3 - 10)", "7"),
        ("REMAINDER(10,4)", "2"),
        ("LOG10(1000)", "3"),
        ("FLOOR(1,2)", "0"),
        ("NOSUCH(1)", "0"),
        // String concatenation.
        ("abc ~~ def", "abcdef"),
        ("\"a\" ~~ 1", "a1"),
        ("", ""),
    ])
    func evaluatesLikeAsterisk(_ expression: String, _ expected: String) async throws {
        #expect(try await DialplanExpression.evaluate(expression) == expected, "$[\(expression)]")
    }

    @Test(arguments: [
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("abc + 1", "non-numeric argument"),
        ("- abc", "non-numeric argument"),
        ("abc : \"(\"", "bad regular expression"),
        ("FLOOR(1,2)", "wrong number of arguments"),
        ("LEN(abc)", "not an available function"),
        ("len(abc)", "not an available function"),
        ("SQRT(abc)", "non-numeric argument"),
    ])
    func softErrorsAreWarnings(_ expression: String, _ warning: String) async throws {
        var warnings: [String] = []
        _ = try await DialplanExpression.evaluate(expression, warnings: &warnings)
        #expect(warnings.contains { $0.contains(warning) }, "\(warnings)")
    }

    @Test func cleanExpressionsWarnNothing() async throws {
        var warnings: [String] = []
        _ = try await DialplanExpression.evaluate("(1 + 2) * 3 = 9 & abc : a", warnings: &warnings)
        #expect(warnings.isEmpty)
    }

    @Test(arguments: ["1 +", "(1", "1 ? 2", ")", "1 2", "* 3", "1 ? 2 :: ", "\"open", "FLOOR()", "FLOOR(1", "1,2"])
    func syntaxErrorsThrow(_ expression: String) async {
        await #expect(throws: DialplanExpression.SyntaxError.self) { try await DialplanExpression.evaluate(expression) }
    }

    @Test(arguments: [
        ("$[LEN(abc) + 1]", "4"),
        ("$[TOUPPER(abc) = ABC]", "1"),
        ("$[POW(2,3) * ${A}]", "56"),
        ("$[CALLERID(num) = 1001]", "1"),
        ("$[len(abc)]", "0"),
    ])
    func dialplanFunctionsInsideExpressions(_ input: String, _ expected: String) async throws {
        let execution = try SubstitutionTests.makeExecution()
        #expect(await execution.substitute(input) == expected)
    }

    @Test func divisionByZeroIsLoggedWithTheLocation() async throws {
        let log = LogCapture()
        let execution = try SubstitutionTests.makeExecution(log: log)
        #expect(await execution.substitute("$[${A} / 0]") == "2147483647")
        let line = try #require(log.all.first { $0.message.contains("division by zero") })
        #expect(line.metadata["location"] == "1234@from-internal:3")
    }
}
