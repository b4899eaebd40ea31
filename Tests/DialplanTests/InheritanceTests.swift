import Foundation
import PBXCore
import Testing
@testable import Dialplan

/// Variable inheritance across Dial, over two hops as Asterisk does it: `_VAR` reaches the
/// channel Dial creates as `VAR` and goes no further; `__VAR` keeps its prefix and reaches every
/// later hop; a plain variable stays on its channel.
@Suite struct InheritanceTests {
    static let plan = """
        [default]
        exten => 100,1,Set(_ONCE=1)
         same => n,Set(__ALWAYS=2)
         same => n,Set(PLAIN=3)
         same => n,Dial(SIP/200,20)
        ; The callee's channel, as the dialer starts it with the inherited variables.
        exten => 200,1,Set(CALLERID(num)=[${ONCE}|${ALWAYS}|${PLAIN}])
         same => n,Dial(SIP/300,20)
        """

    @Test func underscoreOnceDoubleUnderscoreForeverPlainNever() async throws {
        let dialplan = try loadDialplan(Self.plan)
        let firstHop = FakeDialer()
        await DialplanExecutor(dialplan: dialplan, dialer: firstHop).run(channel: FakeChannel(), context: "default", exten: "100")
        let inherited = try #require(firstHop.recordedRequests.first?.inheritedVariables)
        #expect(inherited == ["ONCE": "1", "__ALWAYS": "2"])

        let secondHop = FakeDialer()
        let callee = FakeChannel()
        await DialplanExecutor(dialplan: dialplan, dialer: secondHop)
            .run(channel: callee, context: "default", exten: "200", variables: inherited)
        #expect(await callee.callerIDNumber == "[1|2|]")
        #expect(secondHop.recordedRequests.first?.inheritedVariables == ["__ALWAYS": "2"])
    }
}
