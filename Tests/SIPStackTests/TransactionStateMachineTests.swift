import NIOCore
import Testing
@testable import SIPStack

/// The state machines as plain values, without a layer or loop (STYLE.md §3): feed inputs, look
/// at the actions.
@Suite struct TransactionStateMachineTests {
    static func timers(_ actions: [ClientTransactionAction]) -> [(TransactionTimer, TimeAmount)] {
        actions.compactMap { if case .startTimer(let t, let d) = $0 { (t, d) } else { nil } }
    }
    static func timers(_ actions: [ServerTransactionAction]) -> [(TransactionTimer, TimeAmount)] {
        actions.compactMap { if case .startTimer(let t, let d) = $0 { (t, d) } else { nil } }
    }
    static func sends(_ actions: [ClientTransactionAction]) -> [SIPRequest] {
        actions.compactMap { if case .send(let r) = $0 { r } else { nil } }
    }
    static func sends(_ actions: [ServerTransactionAction]) -> [SIPResponse] {
        actions.compactMap { if case .send(let r) = $0 { r } else { nil } }
    }

    @Test func clientInviteStartsTimersAAndBOnlyAOnUnreliable() {
        let invite = TxnFixture.request(.invite)
        var udp = ClientInviteTransaction(request: invite, reliable: false)
        let started = udp.start()
        #expect(Self.sends(started).count == 1)
        #expect(Self.timers(started).map(\.0) == [.a, .b])
        #expect(Self.timers(started).map(\.1) == [.milliseconds(500), .seconds(32)])

        var tcp = ClientInviteTransaction(request: invite, reliable: true)
        #expect(Self.timers(tcp.start()).map(\.0) == [.b])

        var intervals: [TimeAmount] = []
        for _ in 0..<5 {
            let actions = udp.timerFired(.a)
            #expect(Self.sends(actions).count == 1)
            intervals += Self.timers(actions).map(\.1)
        }
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)])

        _ = udp.receive(TxnFixture.response(183, to: invite))
        #expect(udp.timerFired(.a).isEmpty)  // a stale timer after leaving Calling does nothing
        #expect(udp.timerFired(.b).isEmpty)  // Timer B only applies in Calling
        #expect(!udp.isTerminated)
    }

    @Test func clientInviteOnReliableTransportTerminatesOnNon2xx() {
        let invite = TxnFixture.request(.invite)
        var tcp = ClientInviteTransaction(request: invite, reliable: true)
        _ = tcp.start()
        let actions = tcp.receive(TxnFixture.response(404, to: invite))
        #expect(Self.sends(actions).map(\.method) == [.ack])
        #expect(Self.timers(actions).isEmpty)  // Timer D = 0
        #expect(tcp.isTerminated)
    }

    @Test func configurableTimersScaleEverything() {
        let fast = TransactionTimers(t1: .milliseconds(100), t2: .milliseconds(400), t4: .milliseconds(1_000), d: .seconds(1))
        #expect(fast.transactionTimeout == .milliseconds(6_400))
        var nonInvite = ClientNonInviteTransaction(request: TxnFixture.request(.options), reliable: false, timers: fast)
        #expect(Self.timers(nonInvite.start()).map(\.1) == [.milliseconds(100), .milliseconds(6_400)])
        let intervals = (0..<4).flatMap { _ in Self.timers(nonInvite.timerFired(.e)).map(\.1) }
        #expect(intervals == [.milliseconds(200), .milliseconds(400), .milliseconds(400), .milliseconds(400)])
        #expect(fast.timerD(reliable: false) == .seconds(1))
        #expect(fast.timerD(reliable: true) == .zero)
        #expect(fast.timerT4(reliable: false) == .seconds(1))
        #expect(fast.timerJ(reliable: true) == .zero)
    }

    @Test func serverInviteTimerGCapsAtT2AndHReportsNoAck() {
        let invite = TxnFixture.request(.invite)
        var server = ServerInviteTransaction(request: invite, reliable: false)
        let started = server.start()
        #expect(Self.sends(started).map(\.statusCode) == [100])
        let final = server.respond(SIPResponse(replyingTo: invite, statusCode: 500, toTag: "t"))
        #expect(Self.timers(final).map(\.0) == [.g, .h])
        let intervals = (0..<5).flatMap { _ in Self.timers(server.timerFired(.g)).map(\.1) }
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        let timedOut = server.timerFired(.h)
        guard case .noAck(let response) = timedOut.first else {
            Issue.record("expected .noAck")
            return
        }
        #expect(response.statusCode == 500)
        #expect(server.isTerminated)
    }

    @Test func serverInviteAcceptedAbsorbsAndPassesAck() {
        let invite = TxnFixture.request(.invite)
        var server = ServerInviteTransaction(request: invite, reliable: false)
        _ = server.start()
        let ok = server.respond(SIPResponse(replyingTo: invite, statusCode: 200, toTag: "t"))
        #expect(Self.timers(ok).map(\.0) == [.l])
        #expect(server.receiveRetransmission().isEmpty)
        #expect(server.respond(SIPResponse(replyingTo: invite, statusCode: 486, toTag: "t")).isEmpty)
        #expect(Self.sends(server.respond(SIPResponse(replyingTo: invite, statusCode: 200, toTag: "t"))).count == 1)
        let ack = TxnFixture.request(.ack, toTag: "t")
        guard case .deliverAck = server.receiveAck(ack).first else {
            Issue.record("expected .deliverAck")
            return
        }
        #expect(server.timerFired(.l).isEmpty)
        #expect(server.isTerminated)
    }

    @Test func serverNonInviteDiscardsSecondFinal() {
        let request = TxnFixture.request(.bye)
        var server = ServerNonInviteTransaction(request: request, reliable: false)
        #expect(server.receiveRetransmission().isEmpty)
        _ = server.respond(SIPResponse(replyingTo: request, statusCode: 200, toTag: "t"))
        #expect(server.respond(SIPResponse(replyingTo: request, statusCode: 500, toTag: "t")).isEmpty)
        #expect(Self.sends(server.receiveRetransmission()).map(\.statusCode) == [200])
    }

    @Test func okRetransmitterDoublesToT2AndStopsOnAck() {
        let invite = TxnFixture.request(.invite)
        var retransmitter = InviteResponseRetransmitter(response: SIPResponse(replyingTo: invite, statusCode: 200, toTag: "t"))
        let started = retransmitter.start()
        #expect(started.count == 2)
        var intervals: [TimeAmount] = []
        for _ in 0..<5 {
            for action in retransmitter.timerFired(.retransmit2xx) {
                if case .startTimer(_, let d) = action { intervals.append(d) }
            }
        }
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        retransmitter.receiveAck()
        #expect(retransmitter.isFinished)
        #expect(retransmitter.timerFired(.retransmit2xx).isEmpty)
        #expect(retransmitter.timerFired(.ackTimeout).isEmpty)
    }

    @Test func responseBuilderFollows8_2_6() {
        var invite = TxnFixture.request(.invite)
        invite.headers.add("Timestamp", "54")
        let trying = SIPResponse(replyingTo: invite, statusCode: 100, toTag: "ignored")
        #expect(trying.headers.to.tag == nil)
        #expect(trying.headers["Timestamp"] == "54")
        let ringing = SIPResponse(replyingTo: invite, statusCode: 180, toTag: "pbx")
        #expect(ringing.headers.to.tag == "pbx")
        #expect(ringing.headers["Timestamp"] == nil)
        #expect(ringing.headers.vias == invite.headers.vias)
        let inDialog = TxnFixture.request(.bye, toTag: "existing")
        #expect(SIPResponse(replyingTo: inDialog, statusCode: 200, toTag: "new").headers.to.tag == "existing")
    }
}
