import Testing
@testable import Dialplan

/// Which extension wins for a dialed number, per Asterisk's documented ordering.
struct PatternMatchingTests {
    /// Builds `[default]` with one `NoOp(<name>)` priority per extension, in the order given
    /// (the loader must sort them; the file order must not matter).
    static func context(_ extensions: [String]) -> String {
        "[default]\n" + extensions.map { "exten => \($0),1,NoOp(\($0))" }.joined(separator: "\n")
    }

    static let docsExample = ["_6XX1", "_64XX", "_640X", "_6.", "_64NX", "_6[45]NX", "_6[34]NX"]

    /// (extensions in file order, dialed, expected winner or nil for no match)
    static let table: [([String], String, String?)] = [
        // The worked example from the Asterisk documentation ("Order of Pattern Matching").
        (docsExample, "6421", "_64NX"),
        (docsExample, "6401", "_640X"),
        (docsExample, "6411", "_64XX"),
        (docsExample, "6321", "_6[34]NX"),
        (docsExample, "6521", "_6[45]NX"),
        (docsExample, "6701", "_6XX1"),
        (docsExample, "6702", "_6."),
        (docsExample, "64", "_6."),
        (docsExample, "64211", "_6."),
        (docsExample, "6", nil),
        // Exact names before any pattern, even a pattern spelling the same digits.
        (["_1XXX", "_X.", "_1000", "1000"], "1000", "1000"),
        (["_1XXX", "_X.", "1000"], "1001", "_1XXX"),
        (["_1XXX", "_X.", "1000"], "2000", "_X."),
        // Fewer possible characters first: [2-3] (2) < N (8) < Z (9) < X (10).
        (["_XXX", "_ZXX", "_NXX", "_[2-3]XX"], "234", "_[2-3]XX"),
        (["_XXX", "_ZXX", "_NXX", "_[2-3]XX"], "534", "_NXX"),
        (["_XXX", "_ZXX", "_NXX", "_[2-3]XX"], "134", "_ZXX"),
        (["_XXX", "_ZXX", "_NXX", "_[2-3]XX"], "034", "_XXX"),
        // '.' after any set, '!' after '.'; '!' also matches nothing more.
        (["_9!", "_9.", "_9X"], "91", "_9X"),
        (["_9!", "_9.", "_9X"], "912", "_9."),
        (["_9!", "_9.", "_9X"], "9", "_9!"),
        // A set position beats '.' even when the '.' pattern is shorter.
        (["_1X.", "_1XX"], "123", "_1XX"),
        (["_1X.", "_1XX"], "1234", "_1X."),
        // Equal-sized sets in ASCII order of their members ([0-4] before [4-8]).
        (["_[4-8]X", "_[0-4]X"], "45", "_[0-4]X"),
        // A literal is a one-character set: more specific than [1-2].
        (["_1[1-2]X", "_11X"], "113", "_11X"),
        // Dashes are ignored in patterns and exact names.
        (["_1-800-NXXXXXX", "_1X."], "18005551234", "_1-800-NXXXXXX"),
        (["555-1234"], "5551234", "555-1234"),
        // X, Z and N are case-insensitive; other letters are literal.
        (["_nxx"], "234", "_nxx"),
        (["_N", "_[a-c]"], "b", "_[a-c]"),
        // '.' and '!' match any character, not only digits.
        (["_0."], "0abc#", "_0."),
        // Special extensions are ordinary exact names.
        (["s", "_X."], "s", "s"),
        (["i", "h", "t", "_X"], "h", "h"),
    ]

    @Test(arguments: table.indices)
    func bestMatch(_ index: Int) throws {
        let (extensions, dialed, expected) = Self.table[index]
        let dialplan = try loadDialplan(Self.context(extensions))
        let found = dialplan.findPriority(context: "default", exten: dialed, priority: 1)
        #expect(found?.arguments == expected, "dialed \(dialed) among \(extensions)")
    }

    @Test func sortOrderMatchesAsteriskDocumentation() throws {
        let dialplan = try loadDialplan(Self.context(Self.docsExample))
        let order = dialplan.contexts["default"]!.extensions.map(\.pattern.text)
        #expect(order == ["_640X", "_64NX", "_64XX", "_6[34]NX", "_6[45]NX", "_6XX1", "_6."])
        // `dialplan show 6421@users` lists the matching ones in the same order.
        let matching = dialplan.matchingExtensions(context: "default", exten: "6421").map(\.extension.pattern.text)
        #expect(matching == ["_64NX", "_64XX", "_6[34]NX", "_6[45]NX", "_6XX1", "_6."])
    }

    @Test func exactNamesSortInASCIIOrderBeforePatterns() throws {
        let names = ["_X", "s", "100", "1000", "_.", "i", "_!"].map { try! ExtensionPattern($0) }
        #expect(names.sorted().map(\.text) == ["100", "1000", "i", "s", "_X", "_.", "_!"])
    }

    @Test(arguments: [
        ("_[12", "without closing"),
        ("_[]X", "empty character set"),
        ("_", "no characters"),
        ("_[0-\u{4E00}]", "bad range"),
    ])
    func malformedPatternsAreRejected(_ pattern: String, reason: String) {
        let error = #expect(throws: PatternError.self) { _ = try ExtensionPattern(pattern) }
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func escapedAndReversedSetMembers() throws {
        let escaped = try ExtensionPattern("_[\\]-]X")
        #expect(escaped.matches("]1"))
        #expect(escaped.matches("-1"))
        let reversed = try ExtensionPattern("_[6-4]")
        #expect(reversed.matches("5"))
        #expect(!reversed.matches("7"))
        #expect(try ExtensionPattern("_9.5").hasTextAfterWildcard)
        #expect(try !ExtensionPattern("_9[.]5").hasTextAfterWildcard)
    }

    /// Overlap dialing questions (`ast_canmatch_extension` / `ast_matchmore_extension`).
    @Test(arguments: [
        // dialed, canMatch, matchMore, exists
        ("9", true, true, false),
        ("92", true, true, false),
        ("9234567", true, true, false),
        ("92345678", true, false, true),
        ("923456789", false, false, false),
        ("91", false, false, false),
        ("1", true, true, false),
        ("10", true, true, false),
        ("100", true, false, true),
        ("1001", false, false, false),
        // `_0!` is an early match: complete at once, never "needs more".
        ("0", true, false, true),
        ("012", true, false, true),
        // `_7.` needs one more, then keeps matching.
        ("7", true, true, false),
        ("71", true, true, true),
        ("8", false, false, false),
    ])
    func overlapDialing(_ dialed: String, canMatch: Bool, matchMore: Bool, exists: Bool) throws {
        let dialplan = try loadDialplan(Self.context(["_9NXXXXXX", "100", "_0!", "_7."]))
        #expect(dialplan.canMatch(context: "default", exten: dialed) == canMatch, "canMatch \(dialed)")
        #expect(dialplan.matchMore(context: "default", exten: dialed) == matchMore, "matchMore \(dialed)")
        #expect(dialplan.hasExtension(context: "default", exten: dialed) == exists, "exists \(dialed)")
    }

    @Test func callerIDSpecificExtensionsComeFirst() throws {
        let dialplan = try loadDialplan("""
            [default]
            exten => 306,1,NoOp(general)
            exten => 306/_101,1,NoOp(from 101)
            exten => 306/102,1,NoOp(from 102)
            """)
        #expect(dialplan.findPriority(context: "default", exten: "306", priority: 1, callerID: "101")?.arguments == "from 101")
        #expect(dialplan.findPriority(context: "default", exten: "306", priority: 1, callerID: "102")?.arguments == "from 102")
        #expect(dialplan.findPriority(context: "default", exten: "306", priority: 1, callerID: "103")?.arguments == "general")
        #expect(dialplan.findPriority(context: "default", exten: "306", priority: 1, callerID: nil)?.arguments == "general")
    }

    @Test func missingPriorityFallsThroughToLessSpecificMatch() throws {
        // The documented Asterisk surprise: 6410 runs 6410's priority 1, then _641X's priority 2.
        let dialplan = try loadDialplan("""
            [default]
            exten => 6410,1,SayDigits(987)
            exten => _641X,1,SayDigits(12345)
            exten => _641X,n,SayDigits(54321)
            """)
        #expect(dialplan.findPriority(context: "default", exten: "6410", priority: 1)?.arguments == "987")
        #expect(dialplan.findPriority(context: "default", exten: "6410", priority: 2)?.arguments == "54321")
    }
}
