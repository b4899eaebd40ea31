import NIOCore
import NIOEmbedded
import Testing
@testable import SIPStack

/// Server transactions through the layer (RFC 3261 §17.2, §9.2, §13.3.1.4; RFC 6026 §7.1).
@Suite struct TransactionServerTests {
    let invite = TxnFixture.request(.invite)

    @Test func inviteGets100AtOnceAndRetransmissionsAreAbsorbed() throws {
        let h = TxnHarness()
        h.receive(invite)
        #expect(h.user.requests.count == 1)
        #expect(h.sent.responses.map(\.statusCode) == [100])
        let trying = h.sent.responses[0]
        #expect(trying.headers.to.tag == nil)
        #expect(trying.headers.cseq == invite.headers.cseq)
        #expect(trying.headers.vias.first?.branch == "z9hG4bKinv001")
        #expect(h.sent.entries[0].destination == TxnFixture.phone)

        h.receive(invite)
        #expect(h.user.requests.count == 1)
        #expect(h.sent.responses.map(\.statusCode) == [100, 100])

        let handle = try #require(h.user.requests.first?.handle)
        #expect(h.layer.respond(SIPResponse(replyingTo: invite, statusCode: 180, toTag: "pbx1"), on: handle))
        h.receive(invite)
        #expect(h.user.requests.count == 1)
        #expect(h.sent.responses.map(\.statusCode) == [100, 100, 180, 180])
    }

    @Test func non2xxFinalIsRetransmittedOnTimerGUntilTimerH() throws {
        let h = TxnHarness()
        h.receive(invite)
        let handle = try #require(h.user.requests.first?.handle)
        h.layer.respond(SIPResponse(replyingTo: invite, statusCode: 486, toTag: "pbx1"), on: handle)
        h.advance(milliseconds: 31_999)
        let busyTimes = h.sent.entries.filter {
            if case .response(let r) = $0.message { r.statusCode == 486 } else { false }
        }.map(\.atMilliseconds)
        // Timer G: T1, doubling, capped at T2 (§17.2.1).
        #expect(busyTimes == [0, 500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500])
        // A retransmitted INVITE is answered with the final response.
        h.receive(invite)
        #expect(h.sent.responses.last?.statusCode == 486)
        #expect(h.user.requests.count == 1)
        #expect(h.user.noAcks.isEmpty)
        h.advance(milliseconds: 1)  // Timer H = 64·T1
        #expect(h.user.noAcks.map(\.response.statusCode) == [486])
        #expect(h.user.noAcks.first?.handle == handle)
        #expect(h.layer.count == 0)
    }

    @Test func ackConfirmsThenTimerITerminates() throws {
        let h = TxnHarness()
        h.receive(invite)
        let handle = try #require(h.user.requests.first?.handle)
        h.layer.respond(SIPResponse(replyingTo: invite, statusCode: 404, toTag: "pbx1"), on: handle)
        h.advance(milliseconds: 600)  // one Timer G retransmission
        let ack = TxnFixture.request(.ack, toTag: "pbx1")  // same branch as the INVITE (§17.1.1.3)
        h.receive(ack)
        h.receive(ack)  // absorbed in Confirmed
        #expect(h.user.acks.isEmpty)  // ACK for a non-2xx never reaches the TU
        let sentBefore = h.sent.entries.count
        h.advance(milliseconds: 4_999)
        #expect(h.sent.entries.count == sentBefore)  // no more Timer G
        #expect(h.layer.serverTransactionCount == 1)
        h.advance(milliseconds: 1)  // Timer I = T4
        #expect(h.layer.count == 0)
        #expect(h.user.noAcks.isEmpty)
        h.receive(invite)  // a late retransmission after the transaction is gone is a new request
        #expect(h.user.requests.count == 2)
    }

    @Test func reliableTransportHasNoTimerGAndEndsOnAck() throws {
        let h = TxnHarness()
        let tcpInvite = TxnFixture.request(.invite, viaTransport: "TCP")
        h.receive(tcpInvite, from: TxnFixture.phoneTCP)
        let handle = try #require(h.user.requests.first?.handle)
        h.layer.respond(SIPResponse(replyingTo: tcpInvite, statusCode: 480, toTag: "pbx1"), on: handle)
        h.advance(seconds: 10)
        #expect(h.sent.responses.map(\.statusCode) == [100, 480])
        h.receive(TxnFixture.request(.ack, viaTransport: "TCP", toTag: "pbx1"), from: TxnFixture.phoneTCP)
        #expect(h.layer.count == 0)  // Timer I = 0

        let options = TxnFixture.request(.options, branch: "z9hG4bKo1", viaTransport: "TCP")
        h.receive(options, from: TxnFixture.phoneTCP)
        let optionsHandle = try #require(h.user.requests.last?.handle)
        h.layer.respond(SIPResponse(replyingTo: options, statusCode: 200, toTag: "t"), on: optionsHandle)
        #expect(h.layer.count == 0)  // Timer J = 0
    }

    @Test func nonInviteRetransmissionsGetLastResponseUntilTimerJ() throws {
        let h = TxnHarness()
        let register = TxnFixture.request(.register, branch: "z9hG4bKreg9")
        h.receive(register)
        h.receive(register)
        #expect(h.user.requests.count == 1)
        #expect(h.sent.entries.isEmpty)  // nothing to repeat in Trying
        let handle = try #require(h.user.requests.first?.handle)
        h.layer.respond(SIPResponse(replyingTo: register, statusCode: 100), on: handle)
        h.receive(register)
        #expect(h.sent.responses.map(\.statusCode) == [100, 100])
        h.layer.respond(SIPResponse(replyingTo: register, statusCode: 401, toTag: "r1"), on: handle)
        #expect(!h.layer.respond(SIPResponse(replyingTo: register, statusCode: 200, toTag: "r1"), on: handle))
        h.receive(register)
        #expect(h.sent.responses.map(\.statusCode) == [100, 100, 401, 401])
        h.advance(milliseconds: 31_999)
        #expect(h.layer.serverTransactionCount == 1)
        #expect(h.sent.entries.count == 4)  // no retransmission timer on the server side
        h.advance(milliseconds: 1)  // Timer J = 64·T1
        #expect(h.layer.count == 0)
        #expect(!h.layer.respond(SIPResponse(replyingTo: register, statusCode: 200, toTag: "r1"), on: handle))
    }

    @Test func cancelIsAnswered200AndTUToldThen487Flows() throws {
        let h = TxnHarness()
        h.receive(invite)
        let inviteHandle = try #require(h.user.requests.first?.handle)
        h.layer.respond(SIPResponse(replyingTo: invite, statusCode: 180, toTag: "pbx1"), on: inviteHandle)
        let cancel = TxnFixture.request(.cancel)  // same branch as the INVITE, CSeq 1 CANCEL
        h.receive(cancel)

        let ok = try #require(h.sent.responses.last)
        #expect(ok.statusCode == 200)
        #expect(ok.headers.cseq == CSeq(number: 1, method: .cancel))
        #expect(ok.headers.to.tag == "pbx1")  // §9.2: same To tag as the INVITE's responses
        #expect(h.user.cancels.count == 1)
        #expect(h.user.cancels.first?.invite == inviteHandle)
        #expect(h.user.requests.count == 1)  // CANCEL is not a new request for the TU

        h.receive(cancel)  // retransmitted CANCEL: 200 again, TU not told again
        #expect(h.sent.responses.map(\.statusCode) == [100, 180, 200, 200])
        #expect(h.user.cancels.count == 1)

        #expect(h.layer.respond(SIPResponse(replyingTo: invite, statusCode: 487, toTag: "pbx1"), on: inviteHandle))
        h.receive(TxnFixture.request(.ack, toTag: "pbx1"))
        h.advance(seconds: 32)
        #expect(h.layer.count == 0)
    }

    @Test func cancelWithoutInviteGets481AndAfterFinalDoesNotReachTU() throws {
        let h = TxnHarness()
        h.receive(TxnFixture.request(.cancel, branch: "z9hG4bKnothing"))
        #expect(h.sent.responses.map(\.statusCode) == [481])
        #expect(h.user.cancels.isEmpty)

        h.receive(invite)
        let handle = try #require(h.user.requests.first?.handle)
        h.layer.respond(SIPResponse(replyingTo: invite, statusCode: 603, toTag: "pbx1"), on: handle)
        h.receive(TxnFixture.request(.cancel))
        #expect(h.sent.responses.last?.statusCode == 200)
        #expect(h.user.cancels.isEmpty)  // §9.2: no effect once a final was sent
    }

    @Test func twoHundredIsRetransmittedUntilAckAndInviteRetransmissionsAbsorbed() throws {
        let h = TxnHarness()
        h.receive(invite)
        let handle = try #require(h.user.requests.first?.handle)
        h.layer.respond(SIPResponse(replyingTo: invite, statusCode: 200, toTag: "pbx1"), on: handle)
        #expect(h.layer.pendingAckCount == 1)
        h.advance(milliseconds: 4_000)
        h.receive(invite)  // RFC 6026 Accepted: absorbed, not a second call, nothing sent
        #expect(h.user.requests.count == 1)
        #expect(h.sent.times == [0, 0, 500, 1_500, 3_500])  // 100, 200, then T1 doubling

        // The ACK for a 2xx has its own branch (§13.2.2.4) and is matched by dialog and CSeq.
        let ack = TxnFixture.request(.ack, branch: "z9hG4bKack2xx", toTag: "pbx1")
        h.receive(ack)
        #expect(h.user.acks.count == 1)
        #expect(h.layer.pendingAckCount == 0)
        h.advance(seconds: 10)
        #expect(h.sent.entries.count == 5)
        #expect(h.layer.serverTransactionCount == 1)  // Timer L keeps absorbing
        h.advance(seconds: 22)
        #expect(h.layer.count == 0)
        #expect(h.user.noAcks.isEmpty)
    }

    @Test func twoHundredWithoutAckGivesUpAfter64T1() throws {
        let h = TxnHarness()
        h.receive(invite)
        let handle = try #require(h.user.requests.first?.handle)
        h.layer.respond(SIPResponse(replyingTo: invite, statusCode: 200, toTag: "pbx1"), on: handle)
        h.advance(milliseconds: 31_999)
        let okTimes = h.sent.entries.dropFirst().map(\.atMilliseconds)
        #expect(okTimes == [0, 500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500])
        #expect(h.user.noAcks.isEmpty)
        h.advance(milliseconds: 1)
        #expect(h.user.noAcks.map(\.response.statusCode) == [200])
        #expect(h.user.noAcks.first?.handle == handle)
        #expect(h.layer.count == 0)
        h.receive(TxnFixture.request(.ack, branch: "z9hG4bKlate", toTag: "pbx1"))
        #expect(h.user.acks.count == 1)  // late ACKs still reach the dialog
    }

    @Test func tuMayRespondFromInsideTheCallback() {
        let h = TxnHarness()
        h.user.onRequest = { [layer = h.layer] request, handle in
            layer.respond(SIPResponse(replyingTo: request, statusCode: 200, toTag: "opt"), on: handle)
        }
        h.receive(TxnFixture.request(.options, branch: "z9hG4bKopt7"))
        #expect(h.sent.responses.map(\.statusCode) == [200])
        h.receive(invite)
        #expect(h.sent.responses.map(\.statusCode) == [200, 100, 200])
        h.advance(seconds: 40)
        #expect(h.layer.count == 0)
    }

    @Test func responsesGoToTheSourceAndViaIsStamped() throws {
        let h = TxnHarness()
        var natted = TxnFixture.request(.invite, viaHost: "10.0.0.5", viaPort: 5060)
        natted.headers.vias[0].parameters.set("rport", flagOrValue: nil)
        let nat = SIPTransportAddress(transport: .udp, address: try SocketAddress(ipAddress: "203.0.113.7", port: 40_000))
        h.receive(natted, from: nat)
        let seen = try #require(h.user.requests.first)
        #expect(seen.request.headers.vias[0].parameters["received"] == "203.0.113.7")
        #expect(seen.request.headers.vias[0].parameters["rport"] == "40000")
        #expect(seen.source == nat)
        h.layer.respond(SIPResponse(replyingTo: seen.request, statusCode: 486, toTag: "x"), on: seen.handle)
        #expect(h.sent.entries.allSatisfy { $0.destination == nat })
        #expect(h.sent.responses.last?.headers.vias[0].parameters["rport"] == "40000")

        // Without rport, `received` is added only when the sent-by host differs from the source.
        let h2 = TxnHarness()
        h2.receive(TxnFixture.request(.options, branch: "z9hG4bKo3"))
        #expect(h2.user.requests.first?.request.headers.vias[0].parameters.contains("received") == false)
    }
}

extension TransactionServerTests {
    /// Some UAs ACK a 2xx with the INVITE's own branch; RFC 6026's Accepted state passes that ACK
    /// to the TU as well, and it still stops the 2xx retransmissions.
    @Test func ackFor2xxReusingInviteBranchStillReachesTU() throws {
        let h = TxnHarness()
        h.receive(invite)
        let handle = try #require(h.user.requests.first?.handle)
        h.layer.respond(SIPResponse(replyingTo: invite, statusCode: 200, toTag: "pbx1"), on: handle)
        h.receive(TxnFixture.request(.ack, toTag: "pbx1"))
        #expect(h.user.acks.count == 1)
        #expect(h.layer.pendingAckCount == 0)
        h.advance(seconds: 32)
        #expect(h.sent.responses.map(\.statusCode) == [100, 200])
        #expect(h.layer.count == 0)
    }
}
