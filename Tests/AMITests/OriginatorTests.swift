import Dialplan
import Logging
import PBXCore
import Testing

@testable import AMI

/// A dialer that can't reach anyone: Originate's checks and failure reports need no call.
struct UnreachableDialer: CallDialer {
    func dial(from caller: any CallChannel, request: DialRequest) async -> DialResult { DialResult(status: .chanUnavail) }
    func place(_ target: CallTarget, for caller: (any CallChannel)?, options: PlaceOptions) async -> Result<PlacedCall, PlaceFailure> {
        .failure(PlaceFailure(cause: .subscriberAbsent, description: "\(target) is not registered"))
    }
    func bridge(_ caller: any CallChannel, with callee: any CallChannel) async -> BridgeEnd { .refused("no bridging here") }
}

@Suite struct OriginatorTests {
    let bus = EventBus()
    let originator: Originator

    init() throws {
        let (dialplan, _) = try Dialplan.parse("""
            [internal]
            exten => 1002,1,NoOp()
             same => n(talk),Dial(SIP/1002)
            """)
        originator = Originator(dialer: UnreachableDialer(), executor: DialplanExecutor(dialplan: dialplan, dialer: UnreachableDialer()),
                                bus: bus, logger: Logger(label: "test"))
    }

    func request(_ headers: [(String, String)]) -> ManagerRequest {
        ManagerRequest(headers: [.init("Action", "Originate")] + headers.map { .init($0.0, $0.1) })
    }

    func error(_ headers: [(String, String)], maySystem: Bool = false) -> String? {
        guard case .failure(let error) = originator.parse(request(headers), maySystem: maySystem) else { return nil }
        return error.message
    }

    @Test func refusalsUseAsterisksWords() {
        #expect(error([("Exten", "1002"), ("Context", "internal")]) == "Channel not specified")
        #expect(error([("Channel", "1001")]) == "Invalid channel")
        #expect(error([("Channel", "SIP/1001"), ("Exten", "1002")]) == "Originate with 'Exten' requires 'Context' and 'Priority'")
        #expect(error([("Channel", "SIP/1001"), ("Exten", "1002"), ("Context", "internal"), ("Priority", "nolabel")]) == "Invalid priority")
        #expect(error([("Channel", "SIP/1001"), ("Exten", "9999"), ("Context", "internal"), ("Priority", "1")]) == "Extension does not exist.")
        #expect(error([("Channel", "SIP/1001"), ("Application", "Playback"), ("Timeout", "soon")]) == "Invalid timeout")
    }

    @Test func blacklistNeedsSystem() {
        let forbidden = "Originate Access Forbidden: app or data blacklisted"
        #expect(error([("Channel", "SIP/1001"), ("Application", "system"), ("Data", "id")]) == forbidden)
        #expect(error([("Channel", "SIP/1001"), ("Application", "Set"), ("Data", "X=${SHELL(id)}")]) == forbidden)
        #expect(error([("Channel", "SIP/1001"), ("Application", "Queue"), ("Data", "600,,,,,agi://evil")]) == forbidden)
        #expect(error([("Channel", "SIP/1001"), ("Application", "System"), ("Data", "id")], maySystem: true) == nil)
        #expect(error([("Channel", "SIP/1001"), ("Application", "Playback"), ("Data", "demo-congrats")]) == nil)
    }

    @Test func labelsVariablesCallerIDAndAsync() throws {
        let parsed = try originator.parse(request([
            ("Channel", "SIP/1001"), ("Exten", "1002"), ("Context", "internal"), ("Priority", "talk"),
            ("Variable", "A=1,B=x=y"), ("Variable", "C=3"), ("CallerID", "\"Click2Call\" <555>"), ("Async", "yes"), ("Timeout", "5000"),
        ]), maySystem: false).get()
        guard case .dialplan(_, _, let priority) = parsed.destination else { Issue.record("expected a dialplan destination"); return }
        #expect(priority == 2)
        #expect(parsed.variables == ["A": "1", "B": "x=y", "C": "3"])
        #expect(parsed.callerID == CallerID(name: "Click2Call", number: "555"))
        #expect(parsed.async && parsed.timeout == .seconds(5))
    }

    @Test func asyncFailureReportsTheDialStringAndUnknownUniqueid() async {
        let watch = bus.subscribe(label: "test")
        let (reply, background) = await originator.originate(request([
            ("Channel", "SIP/1002"), ("Application", "Playback"), ("Data", "beep"), ("Async", "true"), ("ActionID", "o1"),
        ]), maySystem: false)
        guard case .success(let message, _) = reply, let background else { Issue.record("expected success, got \(reply)"); return }
        #expect(message == "Originate successfully queued")
        await background()
        var iterator = watch.events.makeAsyncIterator()
        let event = await iterator.next()
        #expect(event?.name == "OriginateResponse" && event?.eventClass == .call)
        #expect(event?.fields == [
            .init("ActionID", "o1"), .init("Response", "Failure"), .init("Channel", "SIP/1002"), .init("Application", "Playback"),
            .init("Data", "beep"), .init("Reason", "0"), .init("Uniqueid", "<unknown>"), .init("CallerIDNum", "<unknown>"),
            .init("CallerIDName", "<unknown>"),
        ])
        let (sync, _) = await originator.originate(request([("Channel", "SIP/1002"), ("Application", "Playback")]), maySystem: false)
        guard case .error(let text) = sync else { Issue.record("expected an error"); return }
        #expect(text == "Originate failed")
    }

    @Test(arguments: [(HangupCause.userBusy, 5), (.noAnswer, 3), (.normalCircuitCongestion, 8), (.normalClearing, 1), (.unallocated, 0)])
    func reasonCodes(cause: HangupCause, reason: Int) {
        #expect(Originator.reason(for: cause) == reason)
    }
}
