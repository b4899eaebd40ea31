import Testing
@testable import ACD

/// app_queue's say_position timing on fixed instants: announce-frequency 30,
/// min-announce-frequency 10.
@Suite struct PositionAnnouncerTests {
    let start = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int64(seconds * 1000)) }

    @Test func theFirstPositionIsSaidAtOnce() {
        let announcer = PositionAnnouncer(frequency: 30, minimumGap: 10)
        #expect(announcer.isDue(position: 3, at: at(0)))
        #expect(announcer.nextDue(position: 3) == nil)
    }

    @Test func aChangedPositionIsSaidOnceTheMinimumGapHasPassed() {
        var announcer = PositionAnnouncer(frequency: 30, minimumGap: 10)
        announcer.said(3, at: at(0))
        // Moved up at 4 s: not before the 10 s gap…
        #expect(!announcer.isDue(position: 2, at: at(4)))
        #expect(announcer.nextDue(position: 2) == at(10))
        // …then at once, long before announce-frequency.
        #expect(announcer.isDue(position: 2, at: at(10)))
        announcer.said(2, at: at(10))
        // Moved again right away: the gap counts from the last announcement.
        #expect(!announcer.isDue(position: 1, at: at(12)))
        #expect(announcer.isDue(position: 1, at: at(20)))
    }

    @Test func anUnchangedPositionWaitsForTheFrequency() {
        var announcer = PositionAnnouncer(frequency: 30, minimumGap: 10)
        announcer.said(3, at: at(0))
        #expect(!announcer.isDue(position: 3, at: at(10)))
        #expect(!announcer.isDue(position: 3, at: at(29.9)))
        #expect(announcer.nextDue(position: 3) == at(30))
        #expect(announcer.isDue(position: 3, at: at(30)))
    }

    @Test func theMinimumGapWinsOverAShorterFrequency() {
        var announcer = PositionAnnouncer(frequency: 5, minimumGap: 15)
        announcer.said(2, at: at(0))
        #expect(!announcer.isDue(position: 2, at: at(10)))
        #expect(announcer.nextDue(position: 2) == at(15))
        #expect(announcer.isDue(position: 2, at: at(15)))
    }

    @Test func noFrequencyMeansNoPositionAnnouncements() {
        let announcer = PositionAnnouncer(frequency: 0, minimumGap: 15)
        #expect(!announcer.isEnabled && !announcer.isDue(position: 1, at: at(100)))
    }
}
