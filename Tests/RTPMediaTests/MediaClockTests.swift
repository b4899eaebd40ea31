import Foundation
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing
@testable import RTPMedia

/// Records the frames of each tick it gets; optionally leaves the clock inside a tick.
final class TickRecorder: MediaClockSubscriber {
    var ticks: [Int] = []
    var leaveAfter: Int?
    weak var clock: MediaClock?
    func tick(frames: Int) {
        self.ticks.append(frames)
        if let n = self.leaveAfter, self.ticks.count == n { self.clock?.unsubscribe(self) }
    }
}

@Suite struct MediaClockTests {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static func ms(_ n: Int64) -> NIODeadline { t0 + .milliseconds(n) }

    @Test func scheduleCompensatesLateTicksWithoutDrift() {
        var s = MediaClockSchedule(origin: Self.t0)
        #expect(s.nextDeadline == Self.ms(20))
        #expect(s.tick(at: Self.ms(20)) == 1)
        #expect(s.nextDeadline == Self.ms(40))
        // The tick due at 40 ms comes 45 ms late: frames 40, 60 and 80 are due.
        #expect(s.tick(at: Self.ms(85)) == 3)
        // The next one is still on the 20 ms grid (100), not 85 + 20.
        #expect(s.nextDeadline == Self.ms(100))
        #expect(s.tick(at: Self.ms(99)) == 0)  // woken early
        #expect(s.tick(at: Self.ms(101)) == 1)
        #expect(s.delivered == 5)
    }

    @Test func scheduleCapsTheBacklogAndReanchors() {
        var s = MediaClockSchedule(origin: Self.t0, maxFramesPerTick: 4)
        #expect(s.tick(at: Self.ms(1010)) == 4)  // 50 due, 4 sent, the rest forgotten
        #expect(s.nextDeadline == Self.ms(1020))
        #expect(s.tick(at: Self.ms(1020)) == 1)
    }

    @Test func startsWithFirstSubscriberStopsWithLast() throws {
        let loop = EmbeddedEventLoop()
        let clock = MediaClock(eventLoop: loop)
        let a = TickRecorder(), b = TickRecorder()
        #expect(!clock.isRunning)
        clock.subscribe(a)
        #expect(clock.isRunning && clock.subscriberCount == 1)
        loop.advanceTime(by: .milliseconds(19))
        #expect(a.ticks.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(a.ticks == [1])
        clock.subscribe(b)
        loop.advanceTime(by: .milliseconds(100))
        #expect(a.ticks == [1, 1, 1, 1, 1, 1] && b.ticks == [1, 1, 1, 1, 1])
        #expect(clock.tickCount == 6)  // one timer for both subscribers
        clock.unsubscribe(a)
        loop.advanceTime(by: .milliseconds(20))
        #expect(a.ticks.count == 6 && b.ticks.count == 6)
        clock.unsubscribe(b)
        #expect(!clock.isRunning && clock.subscriberCount == 0)
        loop.advanceTime(by: .seconds(1))
        #expect(clock.tickCount == 7 && b.ticks.count == 6)
        // Restarts on a new subscription.
        clock.subscribe(a)
        loop.advanceTime(by: .milliseconds(40))
        #expect(a.ticks.count == 8 && clock.tickCount == 9)
        clock.unsubscribe(a)
        try loop.syncShutdownGracefully()
    }

    @Test func subscriberMayLeaveDuringItsTick() throws {
        let loop = EmbeddedEventLoop()
        let clock = MediaClock(eventLoop: loop)
        let first = TickRecorder(), second = TickRecorder(), third = TickRecorder()
        first.clock = clock
        first.leaveAfter = 2
        for s in [first, second, third] { clock.subscribe(s) }
        loop.advanceTime(by: .milliseconds(60))
        // The others were still ticked in the tick where `first` left.
        #expect(first.ticks == [1, 1] && second.ticks == [1, 1, 1] && third.ticks == [1, 1, 1])
        #expect(clock.subscriberCount == 2)
        second.clock = clock
        second.leaveAfter = 4
        third.clock = clock
        third.leaveAfter = 4
        loop.advanceTime(by: .milliseconds(20))
        #expect(!clock.isRunning)
        loop.advanceTime(by: .milliseconds(100))
        #expect(second.ticks.count == 4 && third.ticks.count == 4 && clock.tickCount == 4)
        try loop.syncShutdownGracefully()
    }

    /// On a real loop that is blocked for 65 ms, the next tick reports the missed frames, so the
    /// total of frames follows the wall clock.
    @Test func lateTickOnARealLoopReportsMissedFrames() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let clock = MediaClock(eventLoop: loop)
        // The recorder is loop-confined: made on the loop.
        // Times taken on the loop itself: a busy test machine may delay the task's hops.
        let (box, started) = try await loop.submit { () -> (NIOLoopBound<TickRecorder>, NIODeadline) in
            let r = TickRecorder()
            clock.subscribe(r)
            return (NIOLoopBound(r, eventLoop: loop), loop.now)
        }.get()
        try await Task.sleep(for: .milliseconds(100))
        _ = try await loop.submit { usleep(65_000) }.get()  // the loop is stuck: ticks are late
        try await Task.sleep(for: .milliseconds(100))
        let (ticks, stopped) = try await loop.submit { () -> ([Int], NIODeadline) in
            clock.unsubscribe(box.value)
            return (box.value.ticks, loop.now)
        }.get()
        let elapsed = stopped - started
        let expected = Int(elapsed.nanoseconds / MediaClock.frameInterval.nanoseconds)
        #expect(ticks.max()! >= 3, "ticks: \(ticks)")
        // Every frame due by the unsubscription was delivered, except one whose tick was pending.
        #expect((expected - 1)...expected ~= ticks.reduce(0, +), "\(ticks.reduce(0, +)) frames in \(elapsed)")
        #expect(ticks.count < ticks.reduce(0, +))
        try await group.shutdownGracefully()
    }
}
