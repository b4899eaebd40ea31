import Testing
@testable import SIPStack

/// RFC 3261 §8.2 checks beyond the corpus.
@Suite struct RequestValidatorTests {
    @Test func acceptsAPlainInvite() throws {
        #expect(SIPRequestValidator().validate(try parseRequest(basicInvite)) == nil)
    }

    @Test func methodNotAllowedListsAllow() throws {
        let validator = SIPRequestValidator(allowedMethods: [.invite, .ack, .bye, .cancel, .options])
        let register = try parseRequest(
            basicInvite.replacingOccurrences(of: "INVITE sip:", with: "REGISTER sip:")
                .replacingOccurrences(of: "314159 INVITE", with: "314159 REGISTER"))
        let rejection = try #require(validator.validate(register))
        #expect(rejection.statusCode == 405)
        #expect(rejection.extraHeaders.first?.name == "Allow")
        #expect(rejection.extraHeaders.first?.value == "ACK, BYE, CANCEL, INVITE, OPTIONS")
        #expect(validator.validate(try parseRequest(basicInvite)) == nil)
    }

    @Test func requireWithSupportedTagsPasses() throws {
        let request = try parseRequest(basicInvite.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 70\nRequire: 100rel, timer"))
        #expect(SIPRequestValidator(supportedExtensions: ["100rel", "timer"]).validate(request) == nil)
        let rejection = SIPRequestValidator(supportedExtensions: ["timer"]).validate(request)
        #expect(rejection?.statusCode == 420)
        #expect(rejection?.extraHeaders.first?.value == "100rel")
    }

    @Test func rejectionBuildsAResponse() throws {
        let request = try parseRequest(basicInvite.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 0"))
        let rejection = try #require(SIPRequestValidator().validate(request))
        #expect(rejection.statusCode == 483)
        let response = SIPResponse(rejecting: request, with: rejection, toTag: "t1")
        #expect(response.statusCode == 483)
        #expect(response.headers.to.tag == "t1")
        #expect(response.headers.vias == request.headers.vias)
        #expect(SIPRequestValidator(rejectsZeroMaxForwards: false).validate(request) == nil)
    }

    @Test func proxyRequireOnlyWhenProxying() throws {
        let request = try parseRequest(basicInvite.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 70\nProxy-Require: foo"))
        #expect(SIPRequestValidator().validate(request) == nil)
        #expect(SIPRequestValidator(enforcesProxyRequire: true).validate(request)?.extraHeaders.first?.value == "foo")
    }

    @Test func dateMustBeGMT() {
        #expect(SIPRequestValidator.isValidSIPDate("Sat, 13 Nov 2010 23:29:00 GMT"))
        #expect(!SIPRequestValidator.isValidSIPDate("Fri, 01 Jan 2010 16:00:00 EST"))
        #expect(!SIPRequestValidator.isValidSIPDate("yesterday"))
    }
}
