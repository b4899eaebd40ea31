import Foundation
import PBXCore

/// Member changes: dynamic members (AddQueueMember, QueueAdd), pause, penalty, hot-desking
/// agents, wrap-up ended early, and the devices members follow.
extension QueueEngine {
    /// Adds a dynamic member (ADDMEMBER, QueueMemberAdded). `callID` is what queue_log records
    /// as the origin: the channel's Uniqueid, `MANAGER` or `CLI`.
    public func addMember(
        queue name: String, interface: String, penalty: Int = 0, paused: Bool = false, reason: String = "",
        memberName: String? = nil, stateInterface: String? = nil, agentNumber: String? = nil, callID: String = "MANAGER"
    ) -> Result<Void, MemberChangeError> {
        guard var queue = queues[name] else { return .failure(.noSuchQueue) }
        guard queue.memberIndex(interface) == nil else { return .failure(.alreadyMember) }
        let now = clock()
        var member = QueueMember(
            interface: interface, name: memberName ?? interface, stateInterface: stateInterface ?? interface,
            penalty: penalty, isDynamic: true, agentNumber: agentNumber, loginTime: now, order: nextMemberOrder)
        nextMemberOrder += 1
        if paused { _ = member.pause(reason: reason, at: now) }
        queue.members.append(member)
        queues[name] = queue
        log(QueueLogEntry(time: now, callID: callID, queue: name, agent: member.name, event: "ADDMEMBER", data: [paused ? "PAUSED" : ""]))
        publish(QueueEvents.member("QueueMemberAdded", queue: queue.settings, member, device: device(of: member), at: now))
        persist()
        dispatch(name)
        return .success(())
    }

    /// Removes a dynamic member (REMOVEMEMBER, QueueMemberRemoved); static ones stay.
    public func removeMember(queue name: String, interface: String, callID: String = "MANAGER") -> Result<Void, MemberChangeError> {
        guard var queue = queues[name] else { return .failure(.noSuchQueue) }
        guard let m = queue.memberIndex(interface) else { return .failure(.notMember) }
        guard queue.members[m].isDynamic else { return .failure(.notDynamic) }
        let member = queue.members.remove(at: m)
        for c in queue.callers.indices where queue.callers[c].ringing.contains(member.interface) {
            queue.callers[c].ringing.remove(member.interface)
            queue.callers[c].assignments.yield(.cancelRing(interface: member.interface))
        }
        queues[name] = queue
        let now = clock()
        log(QueueLogEntry(time: now, callID: callID, queue: name, agent: member.name, event: "REMOVEMEMBER"))
        publish(QueueEvents.member("QueueMemberRemoved", queue: queue.settings, member, device: device(of: member), at: now))
        persist()
        checkLeaveWhenEmpty()
        dispatch(name)
        return .success(())
    }

    /// Pauses or unpauses `interface` in `queue`, or in every queue it belongs to (QueuePause,
    /// PauseQueueMember): PAUSE/UNPAUSE per queue (PAUSEALL/UNPAUSEALL without a queue) and
    /// QueueMemberPause. Returns the queues that changed.
    @discardableResult
    public func setPaused(_ paused: Bool, interface: String, queue only: String? = nil, reason: String = "") -> Result<[String], MemberChangeError> {
        let names = only.map { [$0] } ?? queueNames
        if let only, queues[only] == nil { return .failure(.noSuchQueue) }
        let now = clock()
        var found = false, changedQueues: [String] = []
        for name in names {
            guard var queue = queues[name], let m = queue.memberIndex(interface) else { continue }
            found = true
            let changed = paused ? queue.members[m].pause(reason: reason, at: now) : queue.members[m].unpause()
            guard changed else { continue }
            queues[name] = queue
            changedQueues.append(name)
            let member = queue.members[m]
            if only != nil {
                log(QueueLogEntry(time: now, callID: "NONE", queue: name, agent: member.name, event: paused ? "PAUSE" : "UNPAUSE", data: [reason]))
            }
            publish(QueueEvents.member("QueueMemberPause", queue: queue.settings, member, device: device(of: member), at: now))
        }
        guard found else { return .failure(.notMember) }
        if only == nil, !changedQueues.isEmpty, let member = memberRecord(interface) {
            log(QueueLogEntry(time: now, callID: "NONE", queue: "NONE", agent: member.name, event: paused ? "PAUSEALL" : "UNPAUSEALL", data: [reason]))
        }
        persist()
        checkLeaveWhenEmpty()
        dispatchAll()
        return .success(changedQueues)
    }

    /// QueuePenalty: PENALTY and QueueMemberPenalty per queue changed.
    public func setPenalty(_ penalty: Int, interface: String, queue only: String? = nil) -> Result<Void, MemberChangeError> {
        updateMember(interface, queue: only) { queue, m, now in
            queue.members[m].penalty = penalty
            let member = queue.members[m]
            log(QueueLogEntry(time: now, callID: "NONE", queue: queue.settings.name, agent: member.interface, event: "PENALTY",
                              data: [String(penalty)]))
            publish(QueueEvents.member("QueueMemberPenalty", queue: queue.settings, member, device: device(of: member), at: now))
        }
    }

    /// QueueMemberRingInUse, `Set(QUEUE_MEMBER(…,ringinuse,…)=…)`: the member's own
    /// ringinuse in one queue or every queue it belongs to (QueueMemberRinginuse per queue,
    /// as app_queue's set_member_ringinuse; no queue_log line).
    public func setRingInUse(_ ringInUse: Bool, interface: String, queue only: String? = nil) -> Result<Void, MemberChangeError> {
        updateMember(interface, queue: only) { queue, m, now in
            queue.members[m].ringInUse = ringInUse
            let member = queue.members[m]
            publish(QueueEvents.member("QueueMemberRinginuse", queue: queue.settings, member, device: device(of: member), at: now))
        }
    }

    /// Applies `change` to the member (index `m`) in `only` or in every queue it belongs to,
    /// then saves and redistributes: the one path of the per-member settings actions.
    private func updateMember(_ interface: String, queue only: String?,
                              _ change: (inout QueueState, _ m: Int, _ now: Date) -> Void) -> Result<Void, MemberChangeError> {
        if let only, queues[only] == nil { return .failure(.noSuchQueue) }
        let now = clock()
        var found = false
        for name in only.map({ [$0] }) ?? queueNames {
            guard var queue = queues[name], let m = queue.memberIndex(interface) else { continue }
            found = true
            change(&queue, m, now)
            queues[name] = queue
        }
        guard found else { return .failure(.notMember) }
        persist()
        dispatchAll()
        return .success(())
    }

    /// Ends the member's wrap-up now, in every queue (feature code, manager action).
    @discardableResult
    public func endWrapUp(interface: String) -> Bool {
        let now = clock()
        var ended = false
        for name in queueNames {
            guard var queue = queues[name], let m = queue.memberIndex(interface), case .wrapUp = queue.members[m].activity else { continue }
            _ = queue.members[m].expire(at: now, force: true)
            queues[name] = queue
            announceStatus(queue.settings, queue.members[m])
            ended = true
        }
        if ended { dispatchAll() }
        return ended
    }

    // MARK: Hot-desking agents

    /// `*45<agent><PIN>`: the digits after the feature code are an agent number followed by its
    /// PIN (agents are matched by number prefix, so numbers of different lengths work). Adds
    /// `interface` to each of the agent's queues as a dynamic member named after the agent.
    public func agentLogin(digits: String, interface: String, callID: String) -> Result<AgentDefinition, MemberChangeError> {
        let matches = agents.values.filter { digits.hasPrefix($0.number) }.sorted { $0.number.count > $1.number.count }
        guard !matches.isEmpty else { return .failure(.noSuchAgent) }
        guard let agent = matches.first(where: { String(digits.dropFirst($0.number.count)) == $0.pin }) else {
            return .failure(.wrongPIN)
        }
        // An agent logs in at one desk at a time: leave the previous one first.
        _ = agentLogout(agentNumber: agent.number, callID: callID)
        for queue in agent.queues {
            _ = addMember(queue: queue, interface: interface, memberName: agent.name, agentNumber: agent.number, callID: callID)
        }
        return .success(agent)
    }

    /// `*46`: removes the agent logged in at `interface` (or by number) from its queues.
    public func agentLogout(interface: String? = nil, agentNumber: String? = nil, callID: String) -> Bool {
        var removed = false
        for name in queueNames {
            guard let queue = queues[name] else { continue }
            for member in queue.members where member.isDynamic && member.agentNumber != nil
                && (member.interface == interface || (agentNumber != nil && member.agentNumber == agentNumber)) {
                if case .success = removeMember(queue: name, interface: member.interface, callID: callID) { removed = true }
            }
        }
        return removed
    }

    /// `*47`: pauses the member at `interface` everywhere if it is available somewhere, else
    /// unpauses it. Returns the new paused state (nil: not a member of any queue).
    public func togglePause(interface: String, reason: String = "") -> Bool? {
        guard let member = memberRecord(interface) else { return nil }
        let pause = !member.paused
        _ = setPaused(pause, interface: interface, reason: pause ? reason : "")
        return pause
    }

    // MARK: Devices

    /// A device changed state: members following it are re-announced (QueueMemberStatus) and,
    /// if now free, offered to waiting callers.
    public func deviceStateChanged(_ device: String, to state: DeviceState) {
        let key = device.uppercasedTechnology
        guard devices[key] != state else { return }
        devices[key] = state
        var affected: [String] = []
        for name in queueNames {
            guard let queue = queues[name] else { continue }
            for member in queue.members where member.stateInterface == key {
                announceStatus(queue.settings, member)
                if affected.last != name { affected.append(name) }
            }
        }
        checkLeaveWhenEmpty()
        for name in byWeight(affected) { dispatch(name) }
    }

    /// Device states known at start-up, applied without announcing each.
    public func seedDeviceStates(_ states: [String: DeviceState]) {
        for (device, state) in states { devices[device.uppercasedTechnology] = state }
        dispatchAll()
    }

    /// The member at `interface` in the first queue that has it.
    func memberRecord(_ interface: String) -> QueueMember? {
        for name in queueNames {
            if let queue = queues[name], let m = queue.memberIndex(interface) { return queue.members[m] }
        }
        return nil
    }
}
