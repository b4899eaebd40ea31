import Foundation
import PBXCore
import RTPMedia

/// A fake channel that behaves like a SIP channel towards events and management: it publishes
/// its events on a bus in order (`ChannelEventSource`), its waits really wait and can be
/// interrupted by an async goto (`InterruptibleChannel`), and its Hangup waits for the end
/// of the dialplan run (`DialplanOwnedChannel`).
final class EventedChannel: CallChannel, ChannelEventSource, InterruptibleChannel, DialplanOwnedChannel, @unchecked Sendable {
    // @unchecked Sendable: every `var` is only touched under `lock`.
    let name: String
    let uniqueID: String
    let linkedID: String
    let bus: EventBus
    private let lock = NSLock()
    private var callerID: (number: String, name: String)
    private var channelState: ChannelState = .ring
    private var location: (context: String, exten: String, priority: Int) = ("", "", 1)
    private var hungUp: HangupCause?
    private var interrupted = false
    private var ownedByDialplan = true

    init(name: String = "SIP/1001-00000001", uniqueID: String = "1795306664.1", bus: EventBus,
         callerIDNumber: String = "1001", callerIDName: String = "User 1001") {
        self.name = name
        self.uniqueID = uniqueID
        self.linkedID = uniqueID
        self.bus = bus
        self.callerID = (callerIDNumber, callerIDName)
    }

    private func locked<T>(_ body: () -> T) -> T { lock.withLock(body) }

    private var snapshotNow: ChannelSnapshot {
        locked {
            ChannelSnapshot(name: name, state: channelState, callerIDNumber: callerID.number, callerIDName: callerID.name,
                            context: location.context, exten: location.exten, priority: location.priority,
                            uniqueID: uniqueID, linkedID: linkedID)
        }
    }

    func publishEvent(_ make: @escaping @Sendable (ChannelSnapshot) -> ManagerEvent) {
        bus.publish(make(snapshotNow))
    }

    var callerIDNumber: String { get async { locked { callerID.number } } }
    var callerIDName: String { get async { locked { callerID.name } } }
    func setCallerID(number: String, name: String) async {
        locked { callerID = (number, name) }
        publishEvent { .newCallerid($0) }
    }
    func requestHeader(_ name: String, occurrence: Int) async -> String? { nil }
    var state: ChannelState { get async { locked { channelState } } }
    var snapshot: ChannelSnapshot { get async { snapshotNow } }
    func setDialplanLocation(context: String, exten: String, priority: Int) async {
        locked { location = (context, exten, priority) }
    }

    func answer() async throws {
        let changed = locked { () -> Bool in
            defer { channelState = .up }
            return channelState != .up
        }
        if changed { publishEvent { .newstate($0) } }
    }
    func indicate(_ indication: ChannelIndication) async {}

    func hangup(cause: HangupCause) async {
        let announce = locked { () -> Bool in
            guard hungUp == nil else { return false }
            hungUp = cause
            return !ownedByDialplan
        }
        if announce { publishEvent { .hangup($0, cause: cause) } }
    }

    /// The far end hangs up.
    func remoteHangup(cause: HangupCause = .normalClearing) async {
        publishEvent { .hangupRequest($0, cause: cause) }
        await hangup(cause: cause)
    }

    var isHungUp: Bool { get async { locked { hungUp != nil } } }
    private var waitMustEnd: Bool { locked { hungUp != nil || interrupted } }

    func waitForHangup(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if waitMustEnd { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return waitMustEnd
    }

    func interruptApplication() async { locked { interrupted = true } }
    func clearInterruption() async { locked { interrupted = false } }

    func dialplanEnded() async {
        let cause = locked { () -> HangupCause? in
            ownedByDialplan = false
            return hungUp
        }
        if let cause { publishEvent { .hangup($0, cause: cause) } }
    }

    func play(_ prompts: [String], language: String, interruptDigits: String) async -> PlaybackResult {
        await waitForHangup(timeout: .milliseconds(50 * prompts.count)) ? .hungUp : .finished
    }
    func receiveDigit(timeout: Duration) async -> Character? {
        _ = await waitForHangup(timeout: timeout)
        return nil
    }
    func startTones(_ plan: TonePlan) async -> Bool { true }
    func stopTones() async {}
    func record(_ request: RecordingRequest) async -> RecordingOutcome { .hungUp }
    func echo(until terminators: String) async -> Character? {
        _ = await waitForHangup(timeout: .seconds(3600))
        return nil
    }
    func playContinuous(_ sound: ContinuousSound, duration: Duration?) async -> ContinuousPlayResult {
        await waitForHangup(timeout: duration ?? .seconds(3600)) ? .hungUp : .elapsed
    }
    func sendDTMF(_ digits: String, duration: Duration, gap: Duration) async -> Bool { !(await isHungUp) }
}

/// Collects what the bus carries, for assertions (bounded waits, never sleeps blindly).
final class EventRecorder: Sendable {
    private let task: Task<Void, Never>
    private let subscription: EventSubscription
    private let box: EventBox

    init(_ bus: EventBus) {
        let subscription = bus.subscribe(label: "test")
        self.subscription = subscription
        let box = EventBox()
        task = Task { for await event in subscription.events { box.append(event) } }
        self.box = box
    }

    var all: [ManagerEvent] { box.all }
    var names: [String] { all.map(\.name) }

    /// Waits (up to `timeout`) until `condition` holds for the events so far.
    @discardableResult
    func wait(timeout: Duration = .seconds(5), until condition: ([ManagerEvent]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(all) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(all)
    }

    deinit {
        subscription.cancel()
        task.cancel()
    }
}

/// The recorder's storage, shared with its reading task.
final class EventBox: @unchecked Sendable {
    // @unchecked Sendable: `events` is only touched under `lock`.
    private let lock = NSLock()
    private var events: [ManagerEvent] = []
    func append(_ event: ManagerEvent) { lock.withLock { events.append(event) } }
    var all: [ManagerEvent] { lock.withLock { events } }
}
