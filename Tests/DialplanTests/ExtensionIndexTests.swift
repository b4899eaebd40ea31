import Testing
@testable import Dialplan

/// The context index (exact names by text, patterns by first character, byte-mask matching)
/// must answer exactly as trying every extension in search order does.
@Suite struct ExtensionIndexTests {
    static let plan = """
        [default]
        exten => 1001,1,NoOp(exact 1001)
        exten => 1001/200,1,NoOp(1001 for caller 200)
        exten => 10-02,1,NoOp(exact 1002 written with a dash)
        exten => _10XX,1,NoOp(10XX)
        exten => _1NXX,1,NoOp(1NXX)
        exten => _[a-c]Z!,1,NoOp(letters)
        exten => _X.,1,NoOp(anything)
        exten => _*X.,1,NoOp(star)
        exten => _é1,1,NoOp(accented)
        exten => s,1,NoOp(start)
        """

    /// What findPriority should say: the first extension, in search order, that matches.
    func linear(_ dialplan: Dialplan, _ exten: String, callerID: String?) -> String? {
        dialplan.matchingExtensions(context: "default", exten: exten, callerID: callerID).first?.extension.priorities[1]?
            .arguments
    }

    @Test(arguments: [
        "1001", "1002", "10-02", "1099", "1234", "1", "", "s", "a1", "a", "b9#", "d1", "*5", "*",
        "é1", "e\u{301}1", "1\u{301}001", "3\r\n", "99 9", "1001 ",
    ])
    func indexedLookupAgreesWithTryingEveryExtension(_ exten: String) throws {
        let dialplan = try loadDialplan(Self.plan)
        for callerID in [nil, "200", "300"] {
            let indexed = dialplan.findPriority(context: "default", exten: exten, priority: 1, callerID: callerID)?.arguments
            #expect(indexed == linear(dialplan, exten, callerID: callerID), "\(exten.debugDescription) from \(callerID ?? "nil")")
        }
    }

    @Test func exactNamesBeatPatternsAndCallerIDVariantsComeFirst() throws {
        let dialplan = try loadDialplan(Self.plan)
        #expect(dialplan.findPriority(context: "default", exten: "1001", priority: 1)?.arguments == "exact 1001")
        #expect(
            dialplan.findPriority(context: "default", exten: "1001", priority: 1, callerID: "200")?.arguments
                == "1001 for caller 200")
        #expect(
            dialplan.findPriority(context: "default", exten: "1002", priority: 1)?.arguments == "exact 1002 written with a dash")
        #expect(dialplan.findPriority(context: "default", exten: "1003", priority: 1)?.arguments == "10XX")
        #expect(dialplan.findPriority(context: "default", exten: "b9", priority: 1)?.arguments == "letters")
        #expect(dialplan.findPriority(context: "default", exten: "é1", priority: 1)?.arguments == "accented")
        // A combining mark makes "1" + U+0301 one character, not the digit 1: not even _X. matches.
        #expect(dialplan.findPriority(context: "default", exten: "1\u{301}2", priority: 1) == nil)
        #expect(dialplan.findPriority(context: "default", exten: "1234", priority: 1)?.arguments == "1NXX")
    }

    @Test func patternsByteMasksAgreeWithTheCharacterWalk() throws {
        let patterns = try ["_NXX", "_[1-3a\\-]X", "_9!", "_1.", "_X", "_é"].map { try ExtensionPattern($0) }
        let inputs = ["", "2", "23", "234", "2345", "1", "a5", "-5", "b5", "9", "91", "1", "12", "é", "e\u{301}", "2\u{301}34"]
        for pattern in patterns {
            for input in inputs {
                for mode in [ExtensionPattern.MatchMode.match, .canMatch, .matchMore] {
                    #expect(
                        pattern.fit(input, mode: mode) == characterWalk(pattern, input, mode: mode),
                        "\(pattern.text) \(input.debugDescription) \(mode)")
                }
            }
        }
    }

    /// Random exact names and patterns (sets, ranges, X/Z/N, `.`, `!`, separators, CID
    /// variants, non-ASCII) against random numbers: the index must agree every time.
    @Test func randomDialplansAgreeWithTryingEveryExtension() throws {
        var random = TestRandom(seed: 7)
        let pieces = ["1", "2", "9", "0", "X", "Z", "N", "[1-3]", "[a-c9]", "-", "*", "#", "é"]
        let digits = ["1", "2", "3", "9", "0", "a", "*", "#", "-", "é", "e\u{301}"]
        var matched = 0
        for round in 0..<20 {
            var text = "[default]\n"
            var names = Set<ExtensionPattern.MatchKey>()
            for n in 0..<60 {
                var name = (0..<(1 + random.next(4))).map { _ in pieces[random.next(pieces.count)] }.joined()
                let isPattern = random.next(2) == 0
                if isPattern {
                    if random.next(4) == 0 { name += random.next(2) == 0 ? "." : "!" }
                    name = "_" + name
                } else {
                    name = name.filter { "0123456789*#-".contains($0) }
                }
                guard let pattern = try? ExtensionPattern(name), names.insert(pattern.matchKey).inserted else { continue }
                let cid = random.next(6) == 0 ? "/20\(random.next(3))" : ""
                text += "exten => \(name)\(cid),1,NoOp(\(round)-\(n))\n"
            }
            let dialplan = try loadDialplan(text)
            for _ in 0..<150 {
                let exten = (0..<(1 + random.next(5))).map { _ in digits[random.next(digits.count)] }.joined()
                for callerID in [nil, "200", "201"] {
                    let indexed = dialplan.findPriority(context: "default", exten: exten, priority: 1, callerID: callerID)?
                        .arguments
                    #expect(indexed == linear(dialplan, exten, callerID: callerID), "\(exten.debugDescription) in\n\(text)")
                    matched += indexed == nil ? 0 : 1
                }
            }
        }
        // Not a vacuous comparison of nothing with nothing.
        #expect(matched > 500, "only \(matched) lookups matched anything")
    }

    @Test func aContextAddedToByALaterSectionIsIndexedAgain() throws {
        let dialplan = try loadDialplan(
            """
            [default]
            exten => 100,1,NoOp(first)
            [default]
            exten => 200,1,NoOp(second)
            exten => _3X,1,NoOp(pattern)
            """)
        #expect(dialplan.findPriority(context: "default", exten: "100", priority: 1)?.arguments == "first")
        #expect(dialplan.findPriority(context: "default", exten: "200", priority: 1)?.arguments == "second")
        #expect(dialplan.findPriority(context: "default", exten: "35", priority: 1)?.arguments == "pattern")
    }

    /// The reference: Asterisk's character-by-character matcher, without the byte masks.
    func characterWalk(_ pattern: ExtensionPattern, _ exten: String, mode: ExtensionPattern.MatchMode) -> ExtensionPattern.Fit {
        var data = Substring(exten)
        for element in pattern.elements {
            switch element {
            case .oneOrMore: return data.isEmpty ? (mode == .match ? .no : .yes) : .yes
            case .zeroOrMore: return .early
            case .set(let members):
                guard let first = data.first else { return mode == .match ? .no : .yes }
                guard members.contains(first) else { return .no }
                data = data.dropFirst()
            }
        }
        return data.isEmpty ? (mode == .matchMore ? .no : .yes) : .no
    }
}

/// A small deterministic generator for the randomized agreement test.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
