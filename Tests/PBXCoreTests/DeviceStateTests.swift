import Testing
@testable import PBXCore

@Suite struct DeviceStateTests {
    @Test func aSIPPeersStateFollowsRegistrationReachabilityAndCalls() {
        #expect(DeviceState.of(registered: false, reachable: true, calls: 0, ringing: 0, callLimit: nil) == .unavailable)
        #expect(DeviceState.of(registered: true, reachable: false, calls: 0, ringing: 0, callLimit: nil) == .unavailable)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 0, ringing: 0, callLimit: nil) == .notInUse)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 1, ringing: 1, callLimit: nil) == .ringing)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 1, ringing: 0, callLimit: nil) == .inUse)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 2, ringing: 1, callLimit: nil) == .ringInUse)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 1, ringing: 0, callLimit: 1) == .busy)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 1, ringing: 1, callLimit: 1) == .ringing)
        // chan_sip's order: hold first, then ringing, then call-limit.
        #expect(DeviceState.of(registered: true, reachable: true, calls: 1, ringing: 0, onHold: 1, callLimit: nil) == .onHold)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 2, ringing: 1, onHold: 1, callLimit: 2) == .onHold)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 2, ringing: 1, callLimit: 2) == .ringInUse)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 2, ringing: 0, callLimit: 2) == .busy)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 1, ringing: 0, callLimit: 2) == .inUse)
        #expect(DeviceState.of(registered: false, reachable: true, calls: 1, ringing: 0, onHold: 1, callLimit: nil) == .unavailable)
        // busylevel: busy below the call-limit, only when there is one (chan_sip).
        #expect(DeviceState.of(registered: true, reachable: true, calls: 2, ringing: 0, callLimit: 5, busyLevel: 2) == .busy)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 1, ringing: 0, callLimit: 5, busyLevel: 2) == .inUse)
        #expect(DeviceState.of(registered: true, reachable: true, calls: 2, ringing: 0, callLimit: nil, busyLevel: 2) == .inUse)
    }

    @Test func devicesAggregateAsAsterisk() {
        #expect(DeviceState.aggregate([]) == .invalid)
        #expect(DeviceState.aggregate([.unavailable, .notInUse]) == .notInUse)
        #expect(DeviceState.aggregate([.ringing, .onHold]) == .ringInUse)
        #expect(DeviceState.aggregate([.busy, .ringing]) == .ringInUse)
        #expect(DeviceState.aggregate([.onHold, .notInUse]) == .onHold)
        #expect(DeviceState.aggregate([.onHold, .inUse]) == .inUse)
        #expect(DeviceState.aggregate([.inUse, .busy]) == .busy)
        #expect(DeviceState.aggregate([.invalid, .unknown]) == .unknown)
    }

    @Test func numbersAndTokensAreAsterisks() {
        #expect(DeviceState.allCases.map(\.rawValue) == Array(0...8))
        #expect(DeviceState.notInUse.token == "NOT_INUSE" && DeviceState.ringInUse.description == "Ring+Inuse")
        #expect(!DeviceState.unavailable.isReachable && DeviceState.unknown.isIdle && !DeviceState.inUse.isIdle)
    }

    @Test func theEventRoundTrips() {
        let change = DeviceStateChange(device: "SIP/811", state: .ringing)
        let event = change.event
        #expect(event.name == "DeviceStateChange" && event.eventClass == .call)
        #expect(event.fields == [.init("Device", "SIP/811"), .init("State", "RINGING")])
        #expect(DeviceStateChange(event) == change)
        #expect(DeviceStateChange(ManagerEvent(name: "Newchannel", class: .call, fields: [])) == nil)
    }
}
