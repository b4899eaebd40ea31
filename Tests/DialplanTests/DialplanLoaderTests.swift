import Foundation
import PBXCore
import Testing
@testable import Dialplan

struct DialplanLoaderTests {
    @Test func prioritiesLabelsSameAndHints() throws {
        let (dialplan, warnings) = try Dialplan.parse("""
            [general]
            static=yes

            [globals]
            TRUNK=SIP/provider
            ATTEMPTS => 3

            [default]
            exten => 100,1,Answer()
             same => n(loop),NoOp(looping)
             same => n,Goto(loop)
            exten => 200,1(start),NoOp
            exten => 200,n,Hangup(17)
            exten => 200,5,Verbose(2,five, with a comma)
            exten => 1001,hint,SIP/1001&SIP/1001b
            exten => 1001,1,Dial(SIP/1001,20)
            """)
        #expect(warnings.isEmpty, "\(warnings)")
        let context = try #require(dialplan.contexts["default"])
        let hundred = try #require(context.extensions.first { $0.pattern.text == "100" })
        #expect(hundred.priorities.keys.sorted() == [1, 2, 3])
        #expect(hundred.priorities[2]?.label == "loop")
        #expect(hundred.priorities[3]?.application == "Goto")
        #expect(hundred.priorities[3]?.arguments == "loop")
        #expect(hundred.priorities[1]?.location == SourceLocation(file: "extensions.conf", line: 9))
        #expect(dialplan.findLabel(context: "default", exten: "100", label: "loop") == 2)
        #expect(dialplan.findLabel(context: "default", exten: "200", label: "start") == 1)
        #expect(dialplan.findPriority(context: "default", exten: "200", priority: 2)?.arguments == "17")
        #expect(dialplan.findPriority(context: "default", exten: "200", priority: 5)?.arguments == "2,five, with a comma")
        #expect(dialplan.findPriority(context: "default", exten: "200", priority: 1)?.arguments == "")
        #expect(dialplan.hint(context: "default", exten: "1001") == "SIP/1001&SIP/1001b")
        #expect(dialplan.findPriority(context: "default", exten: "1001", priority: 1)?.arguments == "SIP/1001,20")
        #expect(dialplan.globals == ["TRUNK": "SIP/provider", "ATTEMPTS": "3"])
    }

    @Test func oldStyleAndMissingParenthesisWarn() throws {
        let (dialplan, warnings) = try Dialplan.parse("""
            [default]
            exten => 1,1,Dial,SIP/1001
            exten => 1,2,NoOp(unclosed
            exten => _9.5,1,NoOp
            exten => 2,1,NoOp
            exten => 3,n,NoOp
            foo => bar
            """)
        #expect(dialplan.findPriority(context: "default", exten: "1", priority: 1)?.arguments == "SIP/1001")
        #expect(dialplan.findPriority(context: "default", exten: "1", priority: 2)?.arguments == "unclosed")
        // `n` on a new extension continues from the previous line (pbx_config's lastpri).
        #expect(dialplan.findPriority(context: "default", exten: "3", priority: 2)?.application == "NoOp")
        let lines = warnings.map(\.location.line)
        #expect(lines == [2, 3, 4, 6, 6, 7], "\(warnings)")
        #expect(warnings.allSatisfy { "\($0)".hasPrefix("extensions.conf:") })
    }

    /// Malformed lines stop the load with file:line and the reason.
    @Test(arguments: [
        ("[default]\nexten => 100\n", 2, "missing priority"),
        ("[default]\nexten => 100,,NoOp\n", 2, "missing priority"),
        ("[default]\nsame => n,NoOp\n", 2, "'same =>' without a preceding 'exten =>'"),
        ("[default]\nexten => 100,1,NoOp\nexten => 100,1,Hangup\n", 3, "duplicate priority 1"),
        ("[default]\nexten => 100,1,NoOp\nexten => 10-0,1,Hangup\n", 3, "duplicate priority 1"),
        ("[default]\nexten => 100,1,NoOp\nsame => s,Hangup\n", 3, "duplicate priority 1"),
        ("[default]\n\nexten => _[12,1,NoOp\n", 3, "_[12"),
        ("[default]\nexten => 100,n,NoOp\n", 2, "priority 'n' on the first line"),
        ("[default]\nexten => 100,x1,NoOp\n", 2, "invalid priority 'x1'"),
        ("[default]\nexten => 100,0,NoOp\n", 2, "invalid priority '0'"),
        ("[default]\nexten => 100,1\n", 2, "missing application"),
        ("[default]\nexten => 100,1(),NoOp\n", 2, "empty label"),
        ("[default]\nexten => 100,1(a),NoOp\nsame => n(a),NoOp\n", 3, "duplicate label 'a'"),
        ("[default]\nexten => 100,hint,\n", 2, "hint for '100' without a device"),
        ("[default]\ninclude => \n", 2, "include without a context name"),
        ("[default]\ninclude => day,25:00-26:00,*,*,*\n", 2, "bad time '25:00'"),
        ("[default]\ninclude => day,*,-,*,*\n", 2, "bad weekday range '-'"),
        ("[default]\ninclude => day,*,*,5-,*\n", 2, "bad day of month range '5-'"),
        ("[default]\nexten => 100,1,Bad App(x)\n", 2, "invalid application name"),
    ])
    func configErrorsNameFileAndLine(_ text: String, line: Int, reason: String) {
        let error = #expect(throws: ConfigError.self) { _ = try Dialplan.parse(text, fileName: "extensions.conf") }
        #expect(error?.location == SourceLocation(file: "extensions.conf", line: line), "\(String(describing: error))")
        #expect(error?.message.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("extensions.conf:\(line): ") == true)
    }

    @Test func includesAreSearchedAfterOwnExtensionsAndLoopSafe() throws {
        let (dialplan, warnings) = try Dialplan.parse("""
            [a]
            exten => _X.,1,NoOp(a catch-all)
            include => b

            [b]
            exten => 123,1,NoOp(b exact)
            exten => 555,1,NoOp(b 555)
            include => c
            include => missing

            [c]
            exten => _8XX,1,NoOp(c 8xx)
            include => a
            include => c
            """)
        // a's own pattern wins over b's exact 123: includes are searched after the whole context.
        #expect(dialplan.findPriority(context: "a", exten: "123", priority: 1)?.arguments == "a catch-all")
        #expect(dialplan.findPriority(context: "b", exten: "123", priority: 1)?.arguments == "b exact")
        // b → c, and c → a → b is a loop that must end.
        #expect(dialplan.findPriority(context: "b", exten: "812", priority: 1)?.arguments == "c 8xx")
        #expect(dialplan.findPriority(context: "b", exten: "999", priority: 1)?.arguments == "a catch-all")
        // c → a: a's own catch-all is found before a's include of b is searched.
        #expect(dialplan.findPriority(context: "c", exten: "555", priority: 1)?.arguments == "a catch-all")
        #expect(dialplan.findPriority(context: "b", exten: "555", priority: 1)?.arguments == "b 555")
        #expect(!dialplan.hasExtension(context: "b", exten: "*"))
        #expect(!dialplan.hasExtension(context: "nope", exten: "123"))
        #expect(warnings.map(\.message).contains { $0.contains("unknown context 'missing'") })
        #expect(warnings.map(\.message).contains { $0.contains("includes itself") })
    }

    @Test func timeConditionalIncludes() throws {
        let dialplan = try loadDialplan("""
            [incoming]
            include => office,09:00-17:00,mon-fri,*,*
            include => night

            [office]
            exten => s,1,NoOp(office)

            [night]
            exten => s,1,NoOp(night)
            """)
        // 2026-11-23 is a Monday.
        let mondayNoon = DialplanClockTime(hour: 12, minute: 0, weekday: 1, dayOfMonth: 23, month: 11)
        let mondayLate = DialplanClockTime(hour: 17, minute: 1, weekday: 1, dayOfMonth: 23, month: 11)
        let saturday = DialplanClockTime(hour: 12, minute: 0, weekday: 6, dayOfMonth: 28, month: 11)
        let endMinute = DialplanClockTime(hour: 17, minute: 0, weekday: 5, dayOfMonth: 27, month: 11)
        #expect(dialplan.findPriority(context: "incoming", exten: "s", priority: 1, at: mondayNoon)?.arguments == "office")
        #expect(dialplan.findPriority(context: "incoming", exten: "s", priority: 1, at: endMinute)?.arguments == "office")
        #expect(dialplan.findPriority(context: "incoming", exten: "s", priority: 1, at: mondayLate)?.arguments == "night")
        #expect(dialplan.findPriority(context: "incoming", exten: "s", priority: 1, at: saturday)?.arguments == "night")
    }

    @Test func timingRangesWrap() throws {
        let overnight = try DialplanTiming(fields: ["22:00-06:00", "fri-mon", "*", "dec-jan"])
        #expect(overnight.contains(DialplanClockTime(hour: 23, minute: 30, weekday: 0, dayOfMonth: 1, month: 12)))
        #expect(overnight.contains(DialplanClockTime(hour: 5, minute: 59, weekday: 1, dayOfMonth: 5, month: 1)))
        #expect(!overnight.contains(DialplanClockTime(hour: 12, minute: 0, weekday: 0, dayOfMonth: 1, month: 12)))
        #expect(!overnight.contains(DialplanClockTime(hour: 23, minute: 0, weekday: 3, dayOfMonth: 1, month: 12)))
        #expect(!overnight.contains(DialplanClockTime(hour: 23, minute: 0, weekday: 0, dayOfMonth: 1, month: 6)))
        let days = try DialplanTiming(fields: ["*", "*", "1&15-16"])
        #expect(days.contains(DialplanClockTime(hour: 0, minute: 0, weekday: 0, dayOfMonth: 16, month: 3)))
        #expect(!days.contains(DialplanClockTime(hour: 0, minute: 0, weekday: 0, dayOfMonth: 2, month: 3)))
    }

    @Test func sectionsWithTheSameNameMergeAndGeneralWarns() throws {
        let (dialplan, warnings) = try Dialplan.parse("""
            [general]
            autofallthrough=no
            bogus=1

            [default]
            exten => 100,1,NoOp(first)

            [default]
            exten => 100,2,NoOp(second)
            exten => _1XX,1,NoOp(pattern)
            """)
        #expect(dialplan.findPriority(context: "default", exten: "100", priority: 2)?.arguments == "second")
        #expect(dialplan.contexts["default"]!.extensions.map(\.pattern.text) == ["100", "_1XX"])
        #expect(warnings.map(\.location.line) == [2, 3])
    }

    @Test func loadsFromFileWithIncludes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dialplan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "[default]\n#include more.conf\n".write(to: directory.appendingPathComponent("extensions.conf"), atomically: true, encoding: .utf8)
        try "exten => 100,1,NoOp(ok)\nexten => 100,1,NoOp(dup)\n".write(to: directory.appendingPathComponent("more.conf"), atomically: true, encoding: .utf8)
        let path = directory.appendingPathComponent("extensions.conf").path
        let error = #expect(throws: ConfigError.self) { _ = try Dialplan.load(path: path) }
        #expect(error?.location?.file.hasSuffix("more.conf") == true)
        #expect(error?.location?.line == 2)
    }

    @Test func reportsUnknownApplicationsWithLocations() throws {
        let dialplan = try loadDialplan("""
            [default]
            exten => 100,1,Answer()
             same => n,Playback(hello)
            exten => 200,1,dial(SIP/1001)
             same => n,Queue(600)
            """)
        let unknown = dialplan.prioritiesWithUnknownApplications(.standard)
        #expect(unknown.map(\.application) == ["Playback", "Queue"])
        #expect(unknown.map(\.location.line) == [3, 5])
        var registry = ApplicationRegistry.standard
        registry.register(Application(name: "PLAYBACK") { _, _ in .proceed })
        #expect(dialplan.prioritiesWithUnknownApplications(registry).map(\.application) == ["Queue"])
    }
}
