import Testing

@testable import PBXCore

/// The SIP ⇄ Q.850 mapping is what a caller hears when a dial fails; it must match chan_sip.
@Suite struct HangupCauseTests {
    @Test(arguments: [
        (486, HangupCause.userBusy), (600, .userBusy), (404, .unallocated), (480, .noAnswer),
        (408, .noUserResponse), (603, .callRejected), (503, .normalCircuitCongestion), (487, .normalClearing),
        (488, .incompatibleDestination), (484, .invalidNumberFormat), (500, .temporaryFailure),
    ])
    func sipStatusMapsToCause(status: Int, cause: HangupCause) {
        #expect(HangupCause(sipStatus: status) == cause)
    }

    @Test(arguments: [
        (HangupCause.userBusy, 486), (.unallocated, 404), (.noAnswer, 480), (.noUserResponse, 408),
        (.callRejected, 603), (.normalCircuitCongestion, 503), (.incompatibleDestination, 488), (.normalClearing, 603),
    ])
    func causeMapsToSIPStatus(cause: HangupCause, status: Int) {
        #expect(cause.sipStatus == status)
    }

    @Test func channelNamesAndUniqueIDsFollowAsterisk() throws {
        let identity = ChannelIdentity()
        let first = identity.next(technology: "SIP", peer: "1001")
        let second = identity.next(technology: "SIP", peer: "1002")
        #expect(first.name.wholeMatch(of: /SIP\/1001-[0-9a-f]{8}/) != nil)
        #expect(second.name.hasSuffix("00000002"))
        #expect(first.uniqueID.wholeMatch(of: /[0-9]{10}\.1/) != nil)
        #expect(first.uniqueID != second.uniqueID)
    }
}
