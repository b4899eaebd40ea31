import Testing
@testable import SIPStack

/// Server and client transaction matching (RFC 3261 §17.1.3, §17.2.3).
@Suite struct TransactionKeyTests {
    @Test func ackMatchesInviteAndCancelFindsIt() throws {
        let invite = try #require(TransactionKey(request: TxnFixture.request(.invite)))
        let ack = try #require(TransactionKey(request: TxnFixture.request(.ack, toTag: "pbx1")))
        let cancel = try #require(TransactionKey(request: TxnFixture.request(.cancel)))
        #expect(ack == invite)
        #expect(cancel != invite)
        #expect(cancel.cancelledInviteKey == invite)
        #expect(invite.cancelledInviteKey == nil)
    }

    @Test func sentByAndBranchAndMethodDistinguish() throws {
        let base = try #require(TransactionKey(request: TxnFixture.request(.invite)))
        #expect(TransactionKey(request: TxnFixture.request(.invite, viaHost: "192.0.2.11")) != base)
        #expect(TransactionKey(request: TxnFixture.request(.invite, viaPort: 5070)) != base)
        #expect(TransactionKey(request: TxnFixture.request(.invite, branch: "z9hG4bKother")) != base)
        #expect(TransactionKey(request: TxnFixture.request(.options)) != base)
        // Host case and an explicit default port do not matter.
        let a = TransactionKey(request: TxnFixture.request(.options, viaHost: "Phone.Example", viaPort: nil))
        let b = TransactionKey(request: TxnFixture.request(.options, viaHost: "phone.example", viaPort: 5060))
        #expect(a == b)
        // The RFC 3261 key ignores dialog fields: the branch alone identifies the transaction.
        #expect(TransactionKey(request: TxnFixture.request(.invite, callID: "other")) == base)
    }

    @Test func rfc2543RequestsFallBackToDialogFields() throws {
        let old = TxnFixture.request(.invite, branch: nil)
        let key = try #require(TransactionKey(request: old))
        #expect(TransactionKey(request: TxnFixture.request(.ack, branch: nil, toTag: "pbx1")) == key)
        #expect(TransactionKey(request: TxnFixture.request(.cancel, branch: nil))?.cancelledInviteKey == key)
        #expect(TransactionKey(request: TxnFixture.request(.invite, branch: nil, cseq: 2)) != key)
        #expect(TransactionKey(request: TxnFixture.request(.invite, branch: nil, callID: "x")) != key)
        #expect(TransactionKey(request: TxnFixture.request(.invite, branch: nil, fromTag: "f2")) != key)
        #expect(TransactionKey(request: TxnFixture.request(.invite, branch: "1234")) != key)  // no cookie, other Via
        // A cookie-less branch is not trusted alone.
        #expect(TransactionKey(request: TxnFixture.request(.invite, branch: "abc", callID: "c1"))
            != TransactionKey(request: TxnFixture.request(.invite, branch: "abc", callID: "c2")))
    }

    @Test func rfc2543RetransmissionIsAbsorbedByLayer() {
        let h = TxnHarness()
        let old = TxnFixture.request(.invite, branch: nil)
        h.receive(old)
        h.receive(old)
        #expect(h.user.requests.count == 1)
        #expect(h.sent.responses.map(\.statusCode) == [100, 100])
    }

    @Test func clientKeySeparatesCancelFromInvite() throws {
        let invite = TxnFixture.request(.invite, branch: "z9hG4bKc1")
        let inviteResponse = TxnFixture.response(487, to: invite)
        let cancelResponse = TxnFixture.response(200, to: invite.makeCancel())
        let k1 = try #require(ClientTransactionKey(response: inviteResponse))
        let k2 = try #require(ClientTransactionKey(response: cancelResponse))
        #expect(k1 == ClientTransactionKey(branch: "z9hG4bKc1", method: .invite))
        #expect(k2 == ClientTransactionKey(branch: "z9hG4bKc1", method: .cancel))
        #expect(k1 != k2)
    }

    @Test func requestWithoutViaHasNoKey() {
        var request = TxnFixture.request(.options)
        request.headers.vias = []
        #expect(TransactionKey(request: request) == nil)
    }
}
