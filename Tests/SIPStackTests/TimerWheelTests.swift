import NIOCore
import NIOEmbedded
import Testing

@testable import SIPStack

/// The shared timer wheel: fires once at (or within one tick after) the deadline, never early,
/// never after cancel, across laps of the wheel, and stops ticking when idle.
@Suite struct TimerWheelTests {
    @Test func firesAtTheDeadlineNotBefore() {
        let loop = EmbeddedEventLoop()
        let wheel = TimerWheel(eventLoop: loop, tick: .milliseconds(10), slotCount: 8)
        var fired: [String] = []
        wheel.schedule(in: .milliseconds(500)) { fired.append("T1") }
        wheel.schedule(in: .milliseconds(30)) { fired.append("short") }
        loop.advanceTime(by: .milliseconds(29))
        #expect(fired.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(fired == ["short"])
        loop.advanceTime(by: .milliseconds(460))
        #expect(fired == ["short"])
        loop.advanceTime(by: .milliseconds(10))
        #expect(fired == ["short", "T1"])
        #expect(wheel.count == 0)
    }

    @Test func cancelledTimersNeverFire() {
        let loop = EmbeddedEventLoop()
        let wheel = TimerWheel(eventLoop: loop)
        var fired = 0
        let token = wheel.schedule(in: .seconds(1)) { fired += 1 }
        wheel.schedule(in: .seconds(2)) { fired += 10 }
        wheel.cancel(token)
        wheel.cancel(token)
        loop.advanceTime(by: .seconds(3))
        #expect(fired == 10)
    }

    @Test func longTimersSurviveSeveralLaps() {
        let loop = EmbeddedEventLoop()
        // 8 slots of 10 ms: a 32 s timer (Timer J) laps the wheel 400 times.
        let wheel = TimerWheel(eventLoop: loop, tick: .milliseconds(10), slotCount: 8)
        var fired = false
        wheel.schedule(in: .seconds(32)) { fired = true }
        loop.advanceTime(by: .milliseconds(31_990))
        #expect(!fired)
        loop.advanceTime(by: .milliseconds(10))
        #expect(fired)
    }

    @Test func timersScheduledFromATimerAndAfterIdleFire() {
        let loop = EmbeddedEventLoop()
        let wheel = TimerWheel(eventLoop: loop)
        var log: [Int] = []
        wheel.schedule(in: .milliseconds(100)) {
            log.append(1)
            wheel.schedule(in: .milliseconds(100)) { log.append(2) }
        }
        loop.advanceTime(by: .milliseconds(200))
        #expect(log == [1, 2])
        // Idle for a long while, then a new timer still fires on time.
        loop.advanceTime(by: .seconds(100))
        wheel.schedule(in: .milliseconds(50)) { log.append(3) }
        loop.advanceTime(by: .milliseconds(40))
        #expect(log == [1, 2])
        loop.advanceTime(by: .milliseconds(10))
        #expect(log == [1, 2, 3])
    }
}
