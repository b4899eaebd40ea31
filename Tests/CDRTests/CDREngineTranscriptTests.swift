import PBXCore
import Testing

/// The engine fed the events Asterisk 18 published in the captures must produce the `Cdr`
/// events Asterisk printed there, field for field.
@Suite("CDR engine against Asterisk captures")
struct CDREngineTranscriptTests {
    func expectSame(_ produced: [ManagerEvent], _ expected: [ManagerEvent]) {
        #expect(produced.count == expected.count, "records: \(produced.map { $0.fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ") })")
        for (mine, theirs) in zip(produced, expected) {
            #expect(mine.fields.map(\.key) == theirs.fields.map(\.key))
            for field in theirs.fields {
                #expect(mine[field.key] == field.value, "\(field.key) of \(theirs["Channel"] ?? "")")
            }
        }
    }

    @Test("ami-02: 1001 dials 1002, answered after 2 s, caller hangs up 3 s later")
    func basicCall() throws {
        let replay = try TranscriptReplay(fixture: "ami-02-basic-call", base: 1_795_306_661.5,
                                          marks: [.init(event: "DialEnd", occurrence: 1, t: 5.03)])
        var engine = CDREngine()
        expectSame(replay.run(&engine), replay.cdrEvents)
        #expect(replay.cdrEvents.count == 1)
        #expect(engine.trackedChannelCount == 0)
    }

    @Test("ami-03: queue call answered by agent 811; one row for the caller against the agent")
    func queueCall() throws {
        let replay = try TranscriptReplay(fixture: "ami-03-queue-call", base: 1_795_306_675.5)
        var engine = CDREngine()
        expectSame(replay.run(&engine), replay.cdrEvents)
        #expect(engine.trackedChannelCount == 0)
    }

    @Test("ami-04: queue caller abandons while the agent rings: NO ANSWER, yet answered by Answer()")
    func queueAbandon() throws {
        let replay = try TranscriptReplay(fixture: "ami-04-queue-abandon", base: 1_795_306_693.5)
        var engine = CDREngine()
        let produced = replay.run(&engine)
        expectSame(produced, replay.cdrEvents)
        #expect(produced.first?["Disposition"] == "NO ANSWER")
    }

    @Test("ami-05: Originate to 1002 then Dial 1001; failed originates leave no row")
    func originate() throws {
        let replay = try TranscriptReplay(fixture: "ami-05-originate", base: 1_795_306_708.5, marks: [
            .init(event: "Newstate", occurrence: 2, t: 4.01),
            .init(event: "DialEnd", occurrence: 2, t: 5.07),
            .init(event: "HangupRequest", occurrence: 1, t: 8.08),
        ])
        var engine = CDREngine()
        expectSame(replay.run(&engine), replay.cdrEvents)
        #expect(engine.trackedChannelCount == 0)
    }

    @Test("ami-06: the callee redirected out of the bridge to Echo gets its own row")
    func redirectedCallee() throws {
        let replay = try TranscriptReplay(fixture: "ami-06-actions-lists", base: 1_795_306_735.8495,
                                          marks: [.init(event: "DialEnd", occurrence: 1, t: 4.53)])
        var engine = CDREngine()
        expectSame(replay.run(&engine), replay.cdrEvents)
        #expect(replay.cdrEvents.count == 2)
    }
}
