import PBXCore
import Testing
@testable import Dialplan

struct SubstitutionTests {
    /// An execution positioned at 1234@from-internal:3 with a few variables set.
    static func makeExecution(channel: FakeChannel = FakeChannel(), log: LogCapture = LogCapture()) throws -> ChannelExecution {
        let dialplan = try loadDialplan("""
            [globals]
            COMPANY=Acme
            SHADOWED=global

            [from-internal]
            exten => 1234,1,NoOp
            """)
        let executor = DialplanExecutor(dialplan: dialplan, dialer: FakeDialer(), logger: log.logger)
        let execution = ChannelExecution(channel: channel, executor: executor,
                                         location: DialplanLocation(context: "from-internal", exten: "1234", priority: 3))
        execution.setVariable("NUMBER", "5551234567")
        execution.setVariable("WHICH", "NUMBER")
        execution.setVariable("FIELD", "name")
        execution.setVariable("SHADOWED", "channel")
        execution.setVariable("A", "7")
        execution.setVariable("exten", "lower-case variable")
        return execution
    }

    @Test(arguments: [
        ("plain text", "plain text"),
        ("${NUMBER}", "5551234567"),
        ("x${UNSET}y", "xy"),
        ("$NUMBER and $ alone", "$NUMBER and $ alone"),
        // Substrings: offset, offset from the end, length, negative length.
        ("${NUMBER:3}", "1234567"),
        ("${NUMBER:0:3}", "555"),
        ("${NUMBER:-4}", "4567"),
        ("${NUMBER:-4:2}", "45"),
        ("${NUMBER:0:-4}", "555123"),
        ("${NUMBER:2:-2}", "512345"),
        ("${NUMBER:20}", ""),
        ("${NUMBER:-20:3}", "555"),
        ("${NUMBER:8:-5}", ""),
        ("${NUMBER:1:9223372036854775807}", "551234567"),
        ("${NUMBER:-9223372036854775807:2}", "55"),
        // Nested names.
        ("${${WHICH}}", "5551234567"),
        ("${${WHICH}:1:2}", "55"),
        ("${CALLERID(${FIELD})}", "Alice"),
        // Functions and builtins.
        ("${CALLERID(num)}", "1001"),
        ("${CALLERID(name)}", "Alice"),
        ("${CALLERID(all)}", "\"Alice\" <1001>"),
        ("${CALLERID(num):1}", "001"),
        ("${EXTEN}@${CONTEXT}:${PRIORITY}", "1234@from-internal:3"),
        ("${exten}", "lower-case variable"),
        ("${UNIQUEID}/${CHANNEL}", "1732200000.1/SIP/1001-00000001"),
        ("${HANGUPCAUSE}", "0"),
        ("${LEN(${NUMBER})}", "10"),
        // Globals, shadowed by channel variables.
        ("${COMPANY}", "Acme"),
        ("${GLOBAL(SHADOWED)}/${SHADOWED}", "global/channel"),
        // Expressions.
        ("$[1 + 2]", "3"),
        ("$[${A} * 2 - 4]", "10"),
        ("$[${A} > 5]", "1"),
        ("$[${A} = 8]", "0"),
        ("$[\"abc\" = \"abc\"]", "1"),
        ("$[abc < abd]", "1"),
        ("$[7 / 2]", "3.5"),
        ("$[7 % 4]", "3"),
        ("$[(1 + 2) * 3]", "9"),
        ("$[-3 + 1]", "-2"),
        ("$[${A} > 5 ? big :: small]", "big"),
        ("$[0 | fallback]", "fallback"),
        ("$[1 & 0]", "0"),
        ("$[!0]", "1"),
        ("$[${NUMBER} : 555]", "3"),
        // Regexes with operator characters are quoted, as in Asterisk.
        ("$[${NUMBER} : \"555(.*)\"]", "1234567"),
        ("$[${NUMBER} =~ \"12(3)\"]", "3"),
        ("$[${NUMBER} : 9]", "0"),
        ("$[${LEN(${NUMBER})} >= 10]", "1"),
        ("$[]", ""),
    ])
    func substitutes(_ input: String, _ expected: String) async throws {
        let execution = try Self.makeExecution()
        #expect(await execution.substitute(input) == expected)
    }

    @Test func errorsAreLoggedWithLocationAndSubstituteNothing() async throws {
        let log = LogCapture()
        let execution = try Self.makeExecution(log: log)
        // A syntax error gives "0", as Asterisk's ast_str_expr does.
        #expect(await execution.substitute("a$[1 +]b") == "a0b")
        #expect(await execution.substitute("${NUMBER") == "5551234567")
        #expect(await execution.substitute("${NOSUCHFUNC(x)}") == "")
        #expect(await execution.substitute("${CALLERID(bogus)}") == "")
        let messages = log.messages
        #expect(messages.count == 4, "\(messages)")
        #expect(messages.contains { $0.contains("missing '}'") })
        #expect(log.all.allSatisfy { $0.metadata["uniqueid"] == "1732200000.1" })
    }

    @Test func assignsVariablesFunctionsAndInheritance() async throws {
        let channel = FakeChannel()
        let execution = try Self.makeExecution(channel: channel)
        try await execution.assign("CALLERID(name)", value: "Reception")
        try await execution.assign("CALLERID(num)", value: "200")
        #expect(await execution.substitute("${CALLERID(all)}") == "\"Reception\" <200>")
        try await execution.assign("CALLERID(all)", value: "\"Sales Desk\" <300>")
        #expect(await channel.callerIDNumber == "300")
        #expect(await channel.callerIDName == "Sales Desk")
        try await execution.assign("_ONCE", value: "1")
        try await execution.assign("__ALWAYS", value: "2")
        try await execution.assign("GLOBAL(COMPANY)", value: "Acme Ltd")
        #expect(await execution.substitute("${ONCE}${ALWAYS}${COMPANY}") == "12Acme Ltd")
        #expect(execution.inheritableVariables == ["ONCE": "1", "__ALWAYS": "2"])
        await #expect(throws: DialplanError.self) { try await execution.assign("LEN(x)", value: "3") }
    }

    @Test(arguments: [
        ("a,b,c", ["a", "b", "c"]),
        ("", [""]),
        ("SIP/1002,20,", ["SIP/1002", "20", ""]),
        ("a,f(b,c),[d,e],g", ["a", "f(b,c)", "[d,e]", "g"]),
        ("\"quoted, comma\",x", ["quoted, comma", "x"]),
        ("escaped\\, comma,y", ["escaped, comma", "y"]),
        ("back\\\\slash", ["back\\slash"]),
        ("unbalanced),x", ["unbalanced)", "x"]),
    ])
    func splitsArgumentsLikeAsterisk(_ input: String, _ expected: [String]) {
        #expect(ArgumentSplitter.split(input) == expected)
    }

    @Test func expressionSyntaxErrorsThrow() async throws {
        await #expect(throws: DialplanExpression.SyntaxError.self) { try await DialplanExpression.evaluate("1 +") }
        await #expect(throws: DialplanExpression.SyntaxError.self) { try await DialplanExpression.evaluate("(1") }
        await #expect(throws: DialplanExpression.SyntaxError.self) { try await DialplanExpression.evaluate("1 ? 2") }
        let deep = String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)
        await #expect(throws: DialplanExpression.SyntaxError.self) { try await DialplanExpression.evaluate(deep) }
        await #expect(throws: DialplanExpression.SyntaxError.self) { try await DialplanExpression.evaluate(String(repeating: "!", count: 10_000) + "1") }
        #expect(try await DialplanExpression.evaluate("((((1 + 1))))") == "2")
    }

    @Test(arguments: [("", false), ("0", false), (" 0 ", false), ("0.0", false), ("1", true), ("-1", true), ("abc", true),
                      // sscanf("%d") as in Asterisk: the leading integer decides.
                      ("0.5", false), ("0abc", false), ("2x", true), ("-0", false), ("+3", true), ("-", true)])
    func conditionTruth(_ value: String, _ expected: Bool) {
        #expect(DialplanExpression.isTrue(value) == expected)
    }
}
