/// A two-party bridge between SIP legs (Dial, Queue, Originate): it links their media and DTMF
/// and tells the bus — BridgeCreate, BridgeEnter (the dialed leg first, as Asterisk does),
/// BridgeLeave as each leg hangs up, BridgeDestroy when it is empty. Loop-confined (SIP loop).
final class SIPBridge {
    private let driver: SIPChannelDriver
    private var snapshot = BridgeSnapshot()
    private var members: [SIPChannel] = []

    init(driver: SIPChannelDriver) {
        self.driver = driver
    }

    /// Joins `caller` and `callee` (both answered, `callee` called for `caller` so they share a
    /// relay session), each watching its keys for the `features` it may use. Call on the SIP loop.
    func join(caller: SIPChannel, callee: SIPChannel, features: BridgeFeatures = .none) {
        Self.link(caller, callee, driver: driver)
        caller.watchFeatures(features.caller)
        callee.watchFeatures(features.callee)
        driver.events.publish(.bridgeCreate(snapshot))
        // The dialed leg now "runs" AppDial, as an Asterisk callee channel reports.
        callee.dialplanLocation.exten = ""
        callee.publishEvent { .newexten($0, application: "AppDial", data: "(Outgoing Line)") }
        driver.channels.setApplication("AppDial", data: "(Outgoing Line)", uniqueID: callee.uniqueID)
        for member in [callee, caller] { enter(member) }
        caller.logger.info("bridged", metadata: ["peer": "\(callee.name)", "bridge": "\(snapshot.uniqueID)"])
    }

    /// Makes two answered legs each other's party: their media and DTMF linked (local media
    /// detached first). For a new bridge, a transfer's target, or a transferer taken back.
    static func link(_ caller: SIPChannel, _ callee: SIPChannel, driver: SIPChannelDriver) {
        caller.localMedia = nil
        callee.localMedia = nil
        driver.media.bridge(caller: caller.media, callee: callee.media)
        caller.bridgedPeer = callee
        callee.bridgedPeer = caller
        caller.startDTMFInterworking(with: callee)
    }

    /// The bridge as events describe it now.
    var eventSnapshot: BridgeSnapshot { snapshot }

    /// Adds `member` (BridgeEnter): a party joining, or one handed over by a transfer. The
    /// caller links the media and the legs' `bridgedPeer`.
    func enter(_ member: SIPChannel) {
        members.append(member)
        member.bridge = self
        snapshot.channelCount += 1
        driver.channels.setBridge(snapshot.uniqueID, uniqueID: member.uniqueID)
        driver.events.publish(.bridgeEnter(snapshot, channel: member.snapshotOnLoop()))
    }

    /// Takes `member` out (it is hanging up, or handed elsewhere): BridgeLeave, and BridgeDestroy once empty. The
    /// channel calls this before its Hangup event, so the events come in Asterisk's order.
    func leave(_ member: SIPChannel) {
        guard let index = members.firstIndex(where: { $0 === member }) else { return }
        members.remove(at: index)
        member.bridge = nil
        snapshot.channelCount -= 1
        driver.channels.setBridge(nil, uniqueID: member.uniqueID)
        driver.events.publish(.bridgeLeave(snapshot, channel: member.snapshotOnLoop()))
        if snapshot.channelCount == 0 { driver.events.publish(.bridgeDestroy(snapshot)) }
    }
}

/// Publishes one dial's DialBegin/DialState/DialEnd for each leg it rings, and sets both sides'
/// connected line as Asterisk does. Loop-confined (SIP loop).
struct DialEvents {
    let driver: SIPChannelDriver
    /// Nil for an originated call: its DialBegin has only the `Dest…` block.
    let caller: SIPChannel?

    func begin(_ leg: SIPChannel, dialString: String) {
        if let caller {
            // The dialed leg starts where the caller's dialplan is, as Asterisk's callee does.
            leg.dialplanLocation = (caller.dialplanLocation.context, caller.dialplanLocation.exten, 1)
            leg.publishEvent { .newexten($0, application: "AppDial", data: "(Outgoing Line)") }
            leg.setConnectedLine(number: caller.callerNumber, name: caller.callerName)
        }
        driver.events.publish(.dialBegin(caller: caller?.snapshotOnLoop(), callee: leg.snapshotOnLoop(), dialString: dialString))
        caller?.setConnectedLine(number: leg.callerNumber, name: leg.callerName)
    }

    func ringing(_ leg: SIPChannel) {
        driver.events.publish(.dialState(caller: caller?.snapshotOnLoop(), callee: leg.snapshotOnLoop(), status: "RINGING"))
    }

    func end(_ leg: SIPChannel, _ status: DialStatus) {
        driver.events.publish(.dialEnd(caller: caller?.snapshotOnLoop(), callee: leg.snapshotOnLoop(), status: status.rawValue))
    }
}

extension DialStatus {
    /// The DIALSTATUS of one leg that failed with `cause`.
    init(failure cause: HangupCause) {
        switch cause {
        case .userBusy: self = .busy
        case .noAnswer, .noUserResponse: self = .noAnswer
        case .unallocated, .subscriberAbsent, .facilityRejected: self = .chanUnavail
        default: self = .congestion
        }
    }
}
