import NIOCore
import Testing

@testable import SIPStack

/// RFC 3261 §12: dialog identifiers, route sets and in-dialog request construction; and the
/// transport's RFC 3581 stamping of where a request really came from.
@Suite struct DialogTests {
    static let invite = """
        INVITE sip:1002@pbx.example SIP/2.0\r
        Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport\r
        Record-Route: <sip:proxy1.example;lr>\r
        Record-Route: <sip:proxy2.example;lr>\r
        From: "Alice" <sip:1001@pbx.example>;tag=alice1\r
        To: <sip:1002@pbx.example>\r
        Call-ID: dlg-1@10.0.0.5\r
        CSeq: 10 INVITE\r
        Contact: <sip:1001@10.0.0.5:5060>\r
        Max-Forwards: 70\r
        Content-Length: 0\r
        \r

        """

    let request = try! parseRequest(invite)

    @Test func serverDialogTakesTheCallersIdentifiersAndRouteSet() {
        let dialog = Dialog(asServerFor: request, localTag: "pbx1", localContact: NameAddress(uri: SIPURI(host: "192.0.2.1")))
        #expect(dialog.callID == "dlg-1@10.0.0.5")
        #expect(dialog.remoteTag == "alice1")
        #expect(dialog.localURI.tag == "pbx1")
        #expect(dialog.remoteTarget.description == "sip:1001@10.0.0.5:5060")
        #expect(dialog.routeSet.map(\.uri.host) == ["proxy1.example", "proxy2.example"])
        #expect(dialog.matches(callID: "dlg-1@10.0.0.5", localTag: "pbx1", remoteTag: "alice1"))
        #expect(!dialog.matches(callID: "dlg-1@10.0.0.5", localTag: "other", remoteTag: "alice1"))
    }

    @Test func byeGoesToTheRemoteTargetWithRoutesAndNextCSeq() {
        var dialog = Dialog(asServerFor: request, localTag: "pbx1", localContact: NameAddress(uri: SIPURI(host: "192.0.2.1")))
        let first = dialog.makeRequest(.bye, via: Via(transport: "UDP", host: "192.0.2.1", port: 5060))
        let second = dialog.makeRequest(.info, via: Via(transport: "UDP", host: "192.0.2.1", port: 5060))
        #expect(first.uri.description == "sip:1001@10.0.0.5:5060")
        #expect(first.headers.from.tag == "pbx1")
        #expect(first.headers.to.tag == "alice1")
        #expect(first.headers.routes.count == 2)
        #expect(second.headers.cseq.number == first.headers.cseq.number + 1)
    }

    @Test func clientDialogReversesTheRecordRoute() {
        var to = request.headers.to
        to.tag = "bob9"
        var headers = request.headers
        headers.to = to
        headers.contacts = [NameAddress(uri: SIPURI(user: "1002", host: "10.0.0.9", port: 5062))]
        let response = SIPResponse(statusCode: 200, headers: headers)
        let dialog = Dialog(asClientFor: request, response: response)
        #expect(dialog.remoteTag == "bob9")
        #expect(dialog.localTag == "alice1")
        #expect(dialog.remoteTarget.port == 5062)
        #expect(dialog.routeSet.map(\.uri.host) == ["proxy2.example", "proxy1.example"])
    }

    @Test func outOfOrderCSeqIsRefused() {
        var dialog = Dialog(asServerFor: request, localTag: "pbx1", localContact: NameAddress(uri: SIPURI(host: "192.0.2.1")))
        let next = dialog.acceptRemoteSequence(CSeq(number: 11, method: .bye))
        let stale = dialog.acceptRemoteSequence(CSeq(number: 5, method: .info))
        let ack = dialog.acceptRemoteSequence(CSeq(number: 11, method: .ack))
        #expect(next)
        #expect(!stale)
        #expect(ack)
    }

    @Test func transportStampsReceivedAndRport() throws {
        var stamped = request
        SIPTransportLayer.stampReceived(&stamped, source: try SocketAddress(ipAddress: "203.0.113.9", port: 40111))
        let via = try #require(stamped.headers.vias.first)
        #expect(via.parameters["received"] == "203.0.113.9")
        #expect(via.parameters["rport"] == "40111")
    }
}
