import NIOCore
import NIOEmbedded
import Testing
@testable import SIPStack

/// Client transactions through the layer (RFC 3261 §17.1), timers driven by the embedded loop.
@Suite struct TransactionClientTests {
    let invite = TxnFixture.request(.invite, branch: "z9hG4bKout1", viaHost: "203.0.113.1", viaPort: 5060)

    @Test func timerADoublesUntilTimerBTimesOut() {
        let h = TxnHarness()
        let events = EventLog()
        h.layer.sendRequest(invite, to: TxnFixture.trunk, onResponse: events.handler)
        h.advance(milliseconds: 31_999)
        // Timer A: 500, 1000, 2000, 4000, 8000, 16000 ms apart — not capped at T2 (§17.1.1.2).
        #expect(h.sent.times == [0, 500, 1_500, 3_500, 7_500, 15_500, 31_500])
        #expect(h.sent.requests.allSatisfy { $0.method == .invite && $0.headers.vias[0].branch == "z9hG4bKout1" })
        #expect(events.events.isEmpty)
        h.advance(milliseconds: 1)  // Timer B = 64·T1 = 32 s
        #expect(events.statusCodes == [408])
        guard case .timeout = events.events.first else { Issue.record("expected .timeout"); return }
        #expect(h.layer.count == 0)
        h.advance(seconds: 60)
        #expect(h.sent.entries.count == 7)
        #expect(events.events.count == 1)
    }

    @Test func provisionalStopsTimerAAndTimerB() {
        let h = TxnHarness()
        let events = EventLog()
        h.layer.sendRequest(invite, to: TxnFixture.trunk, onResponse: events.handler)
        h.advance(milliseconds: 600)
        h.receive(TxnFixture.response(180, to: h.sent.requests[0]))
        h.advance(seconds: 120)
        #expect(h.sent.entries.count == 2)  // the INVITE and one Timer A retransmission
        #expect(events.statusCodes == [180])
        #expect(h.layer.clientTransactionCount == 1)  // Proceeding waits for the final (or a CANCEL)
    }

    @Test func reliableTransportSkipsRetransmissions() {
        let h = TxnHarness()
        let events = EventLog()
        h.layer.sendRequest(invite, to: TxnFixture.phoneTCP, onResponse: events.handler)
        h.advance(milliseconds: 31_999)
        #expect(h.sent.entries.count == 1)
        h.advance(milliseconds: 1)
        #expect(events.statusCodes == [408])

        let options = TxnFixture.request(.options, branch: "z9hG4bKopt1")
        h.layer.sendRequest(options, to: TxnFixture.phoneTCP, onResponse: events.handler)
        h.advance(seconds: 10)
        #expect(h.sent.entries.count == 2)
        h.receive(TxnFixture.response(200, to: options))
        #expect(h.layer.count == 0)  // Timer K = 0 on TCP
    }

    @Test func ackForNon2xxUsesInviteBranchAndResponseToTag() throws {
        let h = TxnHarness()
        let events = EventLog()
        var withRoute = invite
        withRoute.headers.routes = [NameAddress(uri: SIPURI(host: "proxy.example", parameters: SIPParameters([.init(name: "lr", value: nil)])))]
        h.layer.sendRequest(withRoute, to: TxnFixture.trunk, onResponse: events.handler)
        h.receive(TxnFixture.response(180, to: withRoute, toTag: "bob77"))
        let busy = TxnFixture.response(486, to: withRoute, toTag: "bob77")
        h.receive(busy)

        let ack = try #require(h.sent.requests.last)
        #expect(ack.method == .ack)
        #expect(ack.uri == withRoute.uri)
        #expect(ack.headers.vias.count == 1)
        #expect(ack.headers.vias[0].branch == "z9hG4bKout1")
        #expect(ack.headers.to.tag == "bob77")
        #expect(ack.headers.from == withRoute.headers.from)
        #expect(ack.headers.callID == withRoute.headers.callID)
        #expect(ack.headers.cseq == CSeq(number: 1, method: .ack))
        #expect(ack.headers.routes == withRoute.headers.routes)
        #expect(events.statusCodes == [180, 486])

        // A retransmitted 486 is ACKed again but not shown to the TU.
        h.receive(busy)
        #expect(h.sent.requests.filter { $0.method == .ack }.count == 2)
        #expect(events.statusCodes == [180, 486])

        h.advance(milliseconds: 31_999)  // Timer D = 32 s on UDP
        #expect(h.layer.clientTransactionCount == 1)
        h.advance(milliseconds: 1)
        #expect(h.layer.count == 0)
        #expect(h.sent.requests.count == 3)  // INVITE + 2 ACKs, no Timer A after the 180
    }

    @Test func twoHundredEndsTransactionAndRetransmissionIsStray() {
        let h = TxnHarness()
        let events = EventLog()
        h.layer.sendRequest(invite, to: TxnFixture.trunk, onResponse: events.handler)
        let ok = TxnFixture.response(200, to: invite)
        h.receive(ok)
        #expect(events.statusCodes == [200])
        #expect(h.layer.count == 0)
        #expect(h.sent.requests.count == 1)  // the layer never ACKs a 2xx; the TU does
        h.receive(ok)
        #expect(h.user.strays.map(\.statusCode) == [200])
        #expect(events.events.count == 1)
        // Unmatched non-2xx responses are dropped (§18.1.2).
        h.receive(TxnFixture.response(486, to: invite))
        #expect(h.user.strays.count == 1)
    }

    @Test func nonInviteTimerEIsCappedAtT2() {
        let h = TxnHarness()
        let events = EventLog()
        let register = TxnFixture.request(.register, branch: "z9hG4bKreg1")
        h.layer.sendRequest(register, to: TxnFixture.trunk, onResponse: events.handler)
        h.advance(milliseconds: 31_999)
        #expect(h.sent.times == [0, 500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500])
        h.advance(milliseconds: 1)  // Timer F
        #expect(events.statusCodes == [408])
        #expect(h.layer.count == 0)
    }

    @Test func nonInviteTimerEGoesToT2InProceedingThenTimerK() {
        let h = TxnHarness()
        let events = EventLog()
        let bye = TxnFixture.request(.bye, branch: "z9hG4bKbye1", cseq: 2)
        h.layer.sendRequest(bye, to: TxnFixture.trunk, onResponse: events.handler)
        h.advance(milliseconds: 600)
        h.receive(TxnFixture.response(100, to: bye, toTag: nil))
        h.advance(milliseconds: 9_000)  // to 9 600 ms
        // E fired at 500 (next 1000 → 1500); in Proceeding it then runs every T2.
        #expect(h.sent.times == [0, 500, 1_500, 5_500, 9_500])
        let ok = TxnFixture.response(200, to: bye)
        h.receive(ok)
        h.receive(ok)  // absorbed in Completed
        #expect(events.statusCodes == [100, 200])
        h.advance(milliseconds: 4_999)  // Timer K = T4
        #expect(h.layer.clientTransactionCount == 1)
        #expect(h.sent.entries.count == 5)
        h.advance(milliseconds: 1)
        #expect(h.layer.count == 0)
    }

    @Test func branchIsFilledInWhenMissing() throws {
        let h = TxnHarness()
        let bare = TxnFixture.request(.options, branch: nil)
        let handle = h.layer.sendRequest(bare, to: TxnFixture.trunk) { _ in }
        let sentBranch = try #require(h.sent.requests.first?.headers.vias.first?.branch)
        #expect(sentBranch.hasPrefix(Via.magicCookie))
        #expect(sentBranch.count == Via.magicCookie.count + 16)
        #expect(handle.key == ClientTransactionKey(branch: sentBranch, method: .options))
        let second = h.layer.sendRequest(bare, to: TxnFixture.trunk) { _ in }
        #expect(second.key.branch != sentBranch)
    }

    @Test func cancelWaitsForProvisionalThenMatchesInvite() throws {
        let h = TxnHarness()
        let inviteEvents = EventLog()
        let cancelEvents = EventLog()
        let handle = h.layer.sendRequest(invite, to: TxnFixture.trunk, onResponse: inviteEvents.handler)
        #expect(h.layer.cancel(handle, onResponse: cancelEvents.handler))
        #expect(!h.layer.cancel(handle))  // only one CANCEL
        #expect(h.sent.requests.count == 1)  // §9.1: not before a provisional

        h.receive(TxnFixture.response(100, to: invite, toTag: nil))
        let cancel = try #require(h.sent.requests.last)
        #expect(cancel.method == .cancel)
        #expect(cancel.uri == invite.uri)
        #expect(cancel.headers.vias == [invite.headers.vias[0]])
        #expect(cancel.headers.cseq == CSeq(number: 1, method: .cancel))
        #expect(cancel.headers.to == invite.headers.to)
        #expect(cancel.headers.from == invite.headers.from)
        #expect(h.layer.clientTransactionCount == 2)

        // The CANCEL's 200 and the INVITE's 487 share a branch; CSeq method tells them apart.
        h.receive(SIPResponse(replyingTo: cancel, statusCode: 200, toTag: "bob1"))
        h.receive(TxnFixture.response(487, to: invite, toTag: "bob1"))
        #expect(cancelEvents.statusCodes == [200])
        #expect(inviteEvents.statusCodes == [100, 487])
        #expect(h.sent.requests.last?.method == .ack)
        h.advance(seconds: 32)
        #expect(h.layer.count == 0)
    }

    @Test func cancelAfterProvisionalIsSentAtOnceAndGuardedBy64T1() {
        let h = TxnHarness()
        let inviteEvents = EventLog()
        let handle = h.layer.sendRequest(invite, to: TxnFixture.trunk, onResponse: inviteEvents.handler)
        h.receive(TxnFixture.response(180, to: invite))
        #expect(h.layer.cancel(handle))
        #expect(h.sent.requests.map(\.method) == [.invite, .cancel])
        h.receive(SIPResponse(replyingTo: h.sent.requests[1], statusCode: 200, toTag: "callee1"))
        // The far end never sends 487: after 64·T1 the INVITE is given up (§9.1).
        h.advance(milliseconds: 31_999)
        #expect(inviteEvents.statusCodes == [180])
        h.advance(milliseconds: 1)
        #expect(inviteEvents.statusCodes == [180, 408])
        h.advance(seconds: 5)  // the CANCEL's Timer K
        #expect(h.layer.count == 0)
    }

    @Test func cancelIsDroppedWhenFinalArrivesFirst() {
        let h = TxnHarness()
        let cancelEvents = EventLog()
        let handle = h.layer.sendRequest(invite, to: TxnFixture.trunk) { _ in }
        h.layer.cancel(handle, onResponse: cancelEvents.handler)
        h.receive(TxnFixture.response(603, to: invite))
        #expect(h.sent.requests.map(\.method) == [.invite, .ack])
        #expect(!h.layer.cancel(handle))
        h.advance(seconds: 40)
        #expect(cancelEvents.events.isEmpty)
        #expect(h.layer.count == 0)
    }

    @Test func transportFailureReports503AndEndsTransaction() {
        let h = TxnHarness()
        let events = EventLog()
        let other = EventLog()
        h.layer.sendRequest(invite, to: TxnFixture.trunk, onResponse: events.handler)
        h.layer.sendRequest(TxnFixture.request(.options, branch: "z9hG4bKo2"), to: TxnFixture.phone, onResponse: other.handler)
        h.layer.transportFailed(to: TxnFixture.trunk)
        #expect(events.statusCodes == [503])
        guard case .transportError = events.events.first else { Issue.record("expected .transportError"); return }
        #expect(other.events.isEmpty)
        #expect(h.layer.clientTransactionCount == 1)
    }
}

extension TransactionClientTests {
    /// Re-sending an INVITE with credentials after a 407 while the first transaction is still in
    /// Completed must not reuse its branch.
    @Test func reusedBranchGetsAFreshOne() throws {
        let h = TxnHarness()
        let first = EventLog()
        let second = EventLog()
        h.layer.sendRequest(invite, to: TxnFixture.trunk, onResponse: first.handler)
        h.receive(TxnFixture.response(407, to: invite))
        var retry = invite
        retry.headers.cseq.number = 2
        let handle = h.layer.sendRequest(retry, to: TxnFixture.trunk, onResponse: second.handler)
        let sentRetry = try #require(h.sent.requests.last)
        #expect(sentRetry.headers.cseq.number == 2)
        #expect(sentRetry.headers.vias[0].branch != "z9hG4bKout1")
        #expect(handle.key.branch == sentRetry.headers.vias[0].branch)
        h.receive(TxnFixture.response(407, to: invite))  // retransmission: ACKed by the first one
        #expect(second.events.isEmpty)
        h.receive(TxnFixture.response(180, to: sentRetry))
        #expect(second.statusCodes == [180])
        #expect(first.statusCodes == [407])
    }
}
