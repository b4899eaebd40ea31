import Foundation
import Testing
@testable import Dialplan
@testable import IVR

/// The sample voice menu in conf/extensions.conf (`500` → `[ivr-main]`), run with a fixed
/// clock: open hours route 1/2/0, wrong and missing keys retry `IVR_TRIES` times, closed hours
/// play the after-hours message.
extension SampleMediaConfTests {
    /// A Tuesday at 10:00 UTC (inside `08:00-18:00,mon-fri`) and a Sunday at 10:00 (outside).
    static let tuesdayMorning = Date(timeIntervalSince1970: 1_764_064_800)
    static let sundayMorning = Date(timeIntervalSince1970: 1_763_892_000)

    @Test func theFixedClocksAreATuesdayAndASunday() {
        let utc = TimeZone(identifier: "UTC")!
        #expect(
            DialplanClockTime(Self.tuesdayMorning, timeZone: utc)
                == DialplanClockTime(hour: 10, minute: 0, weekday: 2, dayOfMonth: 25, month: 11))
        #expect(DialplanClockTime(Self.sundayMorning, timeZone: utc).weekday == 0)
    }

    @Test(arguments: [
        ("1", ["SIP/811", "SIP/812", "SIP/813", "SIP/823"]),
        ("2", ["SIP/1002"]),
        ("0", ["SIP/1001"]),
    ])
    func aKeyDuringTheGreetingRoutesTheCall(key: String, ring: [String]) async throws {
        let channel = IVRFakeChannel()
        await channel.press(key)
        let (events, dialed) = try await run("500", channel: channel)
        #expect(played(events) == [["ivr-menu"]])
        #expect(dialed == ring)
    }

    @Test func wrongKeysRetryThreeTimesThenGoodbye() async throws {
        let channel = IVRFakeChannel()
        await channel.press("979")
        let (events, dialed) = try await run("500", channel: channel)
        #expect(
            played(events) == [
                ["ivr-menu"], ["pbx-invalid"], ["ivr-menu"], ["pbx-invalid"], ["ivr-menu"], ["pbx-invalid"], ["vm-goodbye"],
            ])
        #expect(dialed.isEmpty)
        #expect(events.last == .hangup(.normalClearing))
    }

    @Test func noKeyTimesOutThreeTimesThenGoodbye() async throws {
        let channel = IVRFakeChannel()
        await channel.press("___")
        let (events, dialed) = try await run("500", channel: channel)
        #expect(
            played(events) == [
                ["ivr-menu"], ["please-try-again"], ["ivr-menu"], ["please-try-again"], ["ivr-menu"], ["please-try-again"],
                ["vm-goodbye"],
            ])
        #expect(receiveTimeouts(events) == [.seconds(5), .seconds(5), .seconds(5)])
        #expect(dialed.isEmpty)
        #expect(events.last == .hangup(.normalClearing))
    }

    @Test func aMissedKeyThenARightOneStillRoutes() async throws {
        let channel = IVRFakeChannel()
        await channel.press("_2")
        let (events, dialed) = try await run("500", channel: channel)
        #expect(played(events) == [["ivr-menu"], ["please-try-again"], ["ivr-menu"]])
        #expect(dialed == ["SIP/1002"])
    }

    @Test func afterHoursPlaysTheMessageAndHangsUp() async throws {
        let channel = IVRFakeChannel()
        await channel.press("1")
        let (events, dialed) = try await run("500", channel: channel, at: Self.sundayMorning)
        #expect(played(events) == [["ivr-after-hours"], ["vm-goodbye"]])
        #expect(dialed.isEmpty)
        #expect(events.last == .hangup(.normalClearing))
    }
}
