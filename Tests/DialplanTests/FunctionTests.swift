import Foundation
import PBXCore
import Testing
@testable import Dialplan

/// The string, logic and time functions, read through `${...}` as a dialplan would.
struct FunctionTests {
    static func makeExecution(log: LogCapture = LogCapture()) throws -> ChannelExecution {
        let execution = try SubstitutionTests.makeExecution(log: log)
        execution.setVariable("LIST", "a-b-c-d")
        execution.setVariable("CSV", "x,y,z")
        return execution
    }

    @Test(arguments: [
        // CUT: single fields, ranges, open ranges, several ranges, default delimiter.
        ("${CUT(LIST,-,2)}", "b"),
        ("${CUT(LIST,-,2-3)}", "b-c"),
        ("${CUT(LIST,-,3-)}", "c-d"),
        ("${CUT(LIST,-,-2)}", "a-b"),
        ("${CUT(LIST,-,1&4)}", "a-d"),
        ("${CUT(LIST,,2)}", "b"),
        ("${CUT(LIST,-,9)}", ""),
        ("${CUT(LIST,-,3-9)}", "c-d"),
        ("${CUT(CSV,\\,,2)}", "y"),
        ("${CUT(COMPANY,c,1)}", "A"),
        // FIELDQTY counts fields; an empty value has none.
        ("${FIELDQTY(LIST,-)}", "4"),
        ("${FIELDQTY(CSV,\\,)}", "3"),
        ("${FIELDQTY(UNSET,-)}", "0"),
        // IF, ISNULL, EXISTS.
        ("${IF($[1 = 1]?yes:no)}", "yes"),
        ("${IF($[1 = 2]?yes:no)}", "no"),
        ("${IF(0?yes)}", ""),
        ("${IF(1? spaced : x)}", "spaced"),
        ("${ISNULL(${UNSET})}", "1"),
        ("${ISNULL(x)}", "0"),
        ("${EXISTS(${NUMBER})}", "1"),
        ("${EXISTS()}", "0"),
        // REGEX is unanchored and answers 1 or 0.
        ("${REGEX(\"^555\" ${NUMBER})}", "1"),
        ("${REGEX(\"^9\" ${NUMBER})}", "0"),
        ("${REGEX(\"[0-9]{10}\" ${NUMBER})}", "1"),
        ("${REGEX(\"^$\" )}", "1"),
        // Case.
        ("${TOUPPER(abc Def)}", "ABC DEF"),
        ("${TOLOWER(AbC)}", "abc"),
        // STRFTIME with explicit zones and formats.
        ("${STRFTIME(0,UTC,%Y-%m-%d %H:%M:%S)}", "1970-01-01 00:00:00"),
        ("${STRFTIME(1732200000,America/New_York,%F %T %Z %z)}", "2024-11-21 09:40:00 EST -0500"),
        ("${STRFTIME(1732200000,UTC)}", "Thu Nov 21 14:40:00 2024"),
        ("${STRFTIME(1732200000,UTC,%a %b %e %j %p %I %u %w %y %C %D %R %r %s %%)}",
         "Thu Nov 21 326 PM 02 4 4 24 20 11/21/24 14:40 02:40:00 PM 1732200000 %"),
        ("${STRFTIME(1732200000.25,UTC,%S.%3q)}", "00.250"),
        // SET assigns and reads as the value; LANGUAGE defaults to en.
        ("${SET(X=5)}${X}", "55"),
        ("${LANGUAGE()}", "en"),
        ("${RAND(7,7)}", "7"),
    ])
    func reads(_ input: String, _ expected: String) async throws {
        let execution = try Self.makeExecution()
        let result = await execution.substitute(input)
        #expect(result == expected, "\(input)")
    }

    @Test(arguments: ["${CUT(LIST,-,x)}", "${CUT(LIST)}", "${FIELDQTY(LIST)}", "${REGEX(no quotes)}",
                      "${IF(nocondition)}", "${IF(${UNSET}?set:unset)}", "${STRFTIME(abc)}", "${STRFTIME(0,Not/AZone)}", "${RAND(a,b)}"])
    func badArgumentsAreLoggedAndReadAsNothing(_ input: String) async throws {
        let log = LogCapture()
        let execution = try Self.makeExecution(log: log)
        #expect(await execution.substitute(input) == "")
        #expect(log.all.contains { $0.level == .warning && $0.metadata["location"] == "1234@from-internal:3" }, "\(log.messages)")
    }

    @Test func randStaysWithinItsBoundsInEitherOrder() async throws {
        let execution = try Self.makeExecution()
        var seen = Set<String>()
        for _ in 0..<200 { seen.insert(await execution.substitute("${RAND(3,1)}")) }
        #expect(seen == ["1", "2", "3"])
        let unbounded = Int(await execution.substitute("${RAND()}"))
        #expect(unbounded.map { (0...Int(Int32.max)).contains($0) } == true)
    }

    @Test func languageIsWritable() async throws {
        let execution = try Self.makeExecution()
        try await execution.assign("LANGUAGE()", value: "ru")
        #expect(execution.language == "ru")
        #expect(await execution.substitute("${LANGUAGE()}") == "ru")
    }

    @Test func epochAndStrftimeReadTheExecutorClock() async throws {
        // 2026-11-23 10:00 UTC, the default time of `runCall`.
        let events = try await runCall("""
            [default]
            exten => 100,1,Set(CALLERID(name)=${EPOCH} ${STRFTIME(,,%H:%M %A)} ${STRFTIME(${EPOCH},Europe/Berlin,%H:%M)})
            """, exten: "100")
        #expect(events.first == .setCallerID(number: "1001", name: "1795428000 10:00 Monday 11:00"))
    }
}
