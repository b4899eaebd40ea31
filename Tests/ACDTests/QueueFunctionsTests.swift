import Foundation
import PBXCore
import Testing
@testable import ACD

/// QUEUE_MEMBER and its siblings, read and written from a dialplan.
@Suite struct QueueFunctionsTests {
    @Test func queueMemberReadsAndWritesAMembersPenaltyPauseAndRinginuse() async throws {
        let queues = "[600]\nringinuse = no\nmember => SIP/811\nmember => SIP/812,2,,,yes\n\n[601]\nmember => SIP/811\n"
        let dialplan = """
            exten => 600,1,ACDProbe(${QUEUE_MEMBER(600,count)} ${QUEUE_MEMBER(600,penalty,SIP/812)} ${QUEUE_MEMBER(600,ringinuse,SIP/811)} ${QUEUE_MEMBER(600,ringinuse,SIP/812)} ${QUEUE_MEMBER_LIST(600)} ${QUEUE_EXISTS(600)}${QUEUE_EXISTS(nope)} ${QUEUE_MEMBER_COUNT(601)})
             same => n,Set(QUEUE_MEMBER(600,penalty,SIP/811)=4)
             same => n,Set(QUEUE_MEMBER(,paused,SIP/811)=1)
             same => n,Set(QUEUE_MEMBER(600,ringinuse,SIP/811)=1)
             same => n,ACDProbe(${QUEUE_MEMBER(600,penalty,SIP/811)} ${QUEUE_MEMBER(600,paused,SIP/811)} ${QUEUE_MEMBER(601,paused,SIP/811)} ${QUEUE_MEMBER(600,ringinuse,SIP/811)} ${QUEUE_MEMBER(601,penalty,SIP/811)} [${QUEUE_GET_CHANNEL(600)}])
             same => n,Set(QUEUE_MEMBER(600,penalty,SIP/999)=1)
             same => n,ACDProbe(not reached)

            """
        let run = try await QueueApplicationTests.run(queues: queues, members: [:], dialplan: dialplan)
        #expect(run.probes == ["probe 2 2 0 1 SIP/811,SIP/812 10 1", "probe 4 1 1 1 0 []"])
    }

    @Test func countsFollowAsterisksDefinitions() async throws {
        let f = try EngineFixture("[600]\nwrapuptime = 30\nmember => SIP/811\nmember => SIP/812\nmember => SIP/813\nmember => SIP/814\n")
        for (device, state) in [("SIP/811", DeviceState.notInUse), ("SIP/812", .unavailable), ("SIP/813", .notInUse), ("SIP/814", .notInUse)] {
            await f.engine.deviceStateChanged(device, to: state)
        }
        _ = await f.engine.setPaused(true, interface: "SIP/814", queue: "600")
        var c = try await f.join(1)
        #expect(await c.ring() == "SIP/811")
        await f.serve(1, by: "SIP/811")
        // 811 in wrap-up, 812 unreachable, 813 ready, 814 paused.
        #expect(await f.engine.memberCount(queue: "600", option: "count") == 4)
        #expect(await f.engine.memberCount(queue: "600", option: "logged") == 3)
        #expect(await f.engine.memberCount(queue: "600", option: "free") == 2)
        #expect(await f.engine.memberCount(queue: "600", option: "ready") == 1)
        #expect(await f.engine.memberCount(queue: "600", option: "nonsense") == nil)
    }
}
