import Foundation
import Logging
import PBXCore

/// The ACD's single owner of state (STYLE.md §13): every queue's waiting callers, members and
/// statistics live in this actor. Callers' tasks (Queue()), member changes (applications,
/// manager actions, feature codes) and device-state changes all come here as messages; the
/// engine decides who rings for whom, announces each change on the event bus, writes
/// queue_log and persists what a restart must keep. It does no media or signalling itself: it
/// hands each caller's task `QueueInstruction`s, and the task rings, announces and bridges.
public actor QueueEngine {
    struct QueueState {
        var settings: QueueSettings
        /// Members in config/arrival order.
        var members: [QueueMember]
        /// Waiting callers, best first (priority, then arrival).
        var callers: [QueueCaller] = []
        var statistics = QueueStatistics()
        var selection: MemberSelection

        func memberIndex(_ interface: String) -> Int? {
            members.firstIndex { $0.interface.caseInsensitiveCompare(interface) == .orderedSame }
        }
    }

    var queues: [String: QueueState] = [:]
    /// Queue names in config order (listings).
    var queueNames: [String] = []
    var agents: [String: AgentDefinition]
    /// Device states by device (`SIP/811`); unknown devices are `.unknown`.
    var devices: [String: DeviceState] = [:]
    let clock: @Sendable () -> Date
    let random: @Sendable (Int) -> Int
    let bus: EventBus?
    let queueLog: (any QueueLogSink)?
    let store: QueueStateStore?
    let logger: Logger
    private var sequence: UInt64 = 0
    private var timer: Task<Void, Never>?
    private var timerDeadline: Date?
    private var savePending = false
    var nextMemberOrder = 0
    /// queuerules.conf's rules by name.
    var penaltyRules: [String: [PenaltyChange]]

    public init(
        config: QueuesConfig, bus: EventBus? = nil, queueLog: (any QueueLogSink)? = nil, store: QueueStateStore? = nil,
        logger: Logger = Logger(label: "pbxd.acd"),
        clock: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable (Int) -> Int = { Int.random(in: 0..<max(1, $0)) }
    ) {
        self.bus = bus
        self.queueLog = queueLog
        self.store = store
        self.logger = logger
        self.clock = clock
        self.random = random
        self.agents = Dictionary(config.agents.map { ($0.number, $0) }, uniquingKeysWith: { first, _ in first })
        self.penaltyRules = config.penaltyRules.rules
        let now = clock()
        let saved = store?.load(logger: logger)
        var order = 0
        for settings in config.queues {
            var members: [QueueMember] = []
            for definition in settings.members {
                var member = QueueMember(
                    interface: definition.interface, name: definition.name, stateInterface: definition.stateInterface,
                    penalty: definition.penalty, isDynamic: false, loginTime: now, order: order)
                member.ringInUse = definition.ringInUse
                order += 1
                if let previous = saved?.members[settings.name]?.first(where: { $0.interface == definition.interface }) {
                    member.restore(from: previous)
                    member.penalty = definition.penalty
                    // A ringinuse the member line gives wins over the one saved, as the penalty.
                    if let ringInUse = definition.ringInUse { member.ringInUse = ringInUse }
                }
                members.append(member)
            }
            for var previous in saved?.members[settings.name] ?? [] where previous.isDynamic {
                guard !members.contains(where: { $0.interface == previous.interface }) else { continue }
                previous.order = order
                order += 1
                members.append(previous.persisted)
            }
            var state = QueueState(settings: settings, members: members, selection: MemberSelection(strategy: settings.strategy))
            state.statistics = saved?.statistics[settings.name] ?? QueueStatistics()
            queues[settings.name] = state
            queueNames.append(settings.name)
        }
        nextMemberOrder = order
    }

    // MARK: Callers

    /// What joining answered: a place in line with the instructions stream, or a refusal.
    public enum JoinResult: Sendable {
        case joined(position: Int, instructions: AsyncStream<QueueInstruction>)
        case refused(QueueStatus)
    }

    /// Puts a caller in line (ENTERQUEUE, QueueCallerJoin) unless the queue is full or empty
    /// under `joinempty`; rings members for it at once if any is free.
    public func join(queue name: String, caller snapshot: ChannelSnapshot, priority: Int, penalties: CallerPenalties = CallerPenalties()) -> JoinResult? {
        guard var queue = queues[name] else { return nil }
        let settings = queue.settings
        if settings.maxLength > 0, queue.callers.count >= settings.maxLength { return .refused(.full) }
        if !settings.joinEmpty.isEmpty, let empty = emptiness(of: queue, under: settings.joinEmpty) {
            return .refused(empty ? .joinUnavailable : .joinEmpty)
        }
        let now = clock()
        sequence += 1
        let (stream, continuation) = AsyncStream<QueueInstruction>.makeStream()
        let insertAt = queue.callers.firstIndex { $0.priority < priority } ?? queue.callers.count
        var caller = QueueCaller(
            uniqueID: snapshot.uniqueID, snapshot: snapshot, priority: priority, joinedAt: now,
            originalPosition: insertAt + 1, sequence: sequence, assignments: continuation)
        caller.penalties = penalties
        _ = caller.penalties.advance(waited: 0)
        queue.callers.insert(caller, at: insertAt)
        queues[name] = queue
        tellPositions(in: queue, from: insertAt + 1)
        log(QueueLogEntry(time: now, callID: snapshot.uniqueID, queue: name, event: "ENTERQUEUE",
                          data: ["", snapshot.callerIDNumber, String(insertAt + 1)]))
        publish(QueueEvents.caller("QueueCallerJoin", snapshot,
                                   [.init("Queue", name), .init("Position", String(insertAt + 1)), .init("Count", String(queue.callers.count))], at: now))
        dispatch(name)
        return .joined(position: insertAt + 1, instructions: stream)
    }

    /// The caller left without being connected (abandon, timeout, empty, key).
    public func leave(queue name: String, caller uniqueID: String, because exit: QueueExit, snapshot: ChannelSnapshot? = nil) {
        guard var queue = queues[name], let index = queue.callers.firstIndex(where: { $0.uniqueID == uniqueID }) else { return }
        let now = clock()
        var caller = queue.callers.remove(at: index)
        if let snapshot { caller.snapshot = snapshot }
        let position = index + 1
        let waited = seconds(from: caller.joinedAt, to: now)
        for interface in caller.ringing {
            guard let m = queue.memberIndex(interface) else { continue }
            switch exit {
            case .abandon:
                logRingCanceled(queue.members[m], caller: uniqueID, queue: name, at: now)
            case .timeout:
                // Queue()'s timeout ended the ring: a missed ring, as app_queue's rna() counts it.
                if let since = queue.members[m].ringingSince(caller: uniqueID) {
                    missedRing(in: &queue, member: m, caller: caller.snapshot, agent: nil,
                               milliseconds: Self.milliseconds(from: since, to: now), at: now)
                }
            case .empty, .key:
                break
            }
            if queue.members[m].ringCancelled(caller: uniqueID) { announceStatus(queue.settings, queue.members[m]) }
        }
        let common = [String(position), String(caller.originalPosition), String(waited)]
        switch exit {
        case .abandon:
            queue.statistics.recordAbandon(waited: waited, serviceLevel: queue.settings.serviceLevel)
            log(QueueLogEntry(time: now, callID: uniqueID, queue: name, event: "ABANDON", data: common))
            publish(QueueEvents.caller("QueueCallerAbandon", caller.snapshot, [
                .init("Queue", name), .init("Position", String(position)),
                .init("OriginalPosition", String(caller.originalPosition)), .init("HoldTime", String(waited)),
            ], at: now))
        case .timeout:
            log(QueueLogEntry(time: now, callID: uniqueID, queue: name, event: "EXITWITHTIMEOUT", data: common))
        case .empty:
            log(QueueLogEntry(time: now, callID: uniqueID, queue: name, event: "EXITEMPTY", data: common))
        case .key(let key):
            log(QueueLogEntry(time: now, callID: uniqueID, queue: name, event: "EXITWITHKEY", data: [String(key)] + common))
        }
        publish(QueueEvents.caller("QueueCallerLeave", caller.snapshot, [
            .init("Queue", name), .init("Position", String(position)), .init("Count", String(queue.callers.count)),
        ], at: now))
        caller.assignments.finish()
        queues[name] = queue
        tellPositions(in: queue, from: index)
        persist()
        dispatch(name)
    }

    /// Tells the callers from `index` on their new place in line, so position announcements
    /// can follow changes (app_queue's say_position); only queues that announce pay for it.
    func tellPositions(in queue: QueueState, from index: Int) {
        guard queue.settings.announceFrequency > 0, index < queue.callers.count else { return }
        for c in index..<queue.callers.count { queue.callers[c].assignments.yield(.positionChanged(c + 1)) }
    }

    /// Where the caller stands: 1-based position, callers in line, and the queue's average hold.
    public func position(queue name: String, caller uniqueID: String) -> (position: Int, count: Int, holdTime: Int)? {
        guard let queue = queues[name], let index = queue.callers.firstIndex(where: { $0.uniqueID == uniqueID }) else { return nil }
        return (index + 1, queue.callers.count, queue.statistics.holdTime)
    }

    // MARK: Ringing outcome (reported by the caller's task)

    /// The member's channel exists and rings: AgentCalled (the CRM's screen pop).
    public func agentCalled(queue name: String, caller: ChannelSnapshot, interface: String, agent: ChannelSnapshot) {
        guard let queue = queues[name], let m = queue.memberIndex(interface) else { return }
        publish(QueueEvents.agent("AgentCalled", caller: caller, agent: agent, queue: name, member: queue.members[m], at: clock()))
    }

    /// The member didn't answer within the timeout (`cause` `.noAnswer`), or refused it
    /// (busy, congestion, unreachable: `ringTime` 0 when it never rang): RINGNOANSWER,
    /// AgentRingNoAnswer, autopause; the caller is offered the next member. A refusal keeps
    /// the ring attempt going, so the next member only gets what is left of `timeout` unless
    /// `timeoutrestart` (app_queue's wait_for_answer on BUSY/CONGESTION); a timeout ends it.
    public func ringNoAnswer(queue name: String, caller: ChannelSnapshot, interface: String, agent: ChannelSnapshot?, ringTime: Duration,
                             cause: HangupCause = .noAnswer) {
        guard var queue = queues[name], let m = queue.memberIndex(interface) else { return }
        let now = clock()
        let milliseconds = Int(ringTime.components.seconds) * 1000 + Int(ringTime.components.attoseconds / 1_000_000_000_000_000)
        if let c = queue.callers.firstIndex(where: { $0.uniqueID == caller.uniqueID }) {
            queue.callers[c].ringing.remove(queue.members[m].interface)
            if cause == .noAnswer {
                queue.callers[c].attemptStartedAt = nil
            } else if queue.settings.timeoutRestart {
                queue.callers[c].attemptStartedAt = now
            }
        }
        missedRing(in: &queue, member: m, caller: caller, agent: agent, milliseconds: milliseconds, at: now)
        queues[name] = queue
        persist()
        dispatch(name)
    }

    /// RINGNOANSWER and AgentRingNoAnswer for a member that rang `milliseconds` in vain (its ring
    /// timeout, a refusal, or Queue()'s own timeout ending the ring: app_queue's rna()), then
    /// retry and autopause.
    private func missedRing(in queue: inout QueueState, member m: Int, caller: ChannelSnapshot, agent: ChannelSnapshot?,
                            milliseconds: Int, at now: Date) {
        let wasPaused = queue.members[m].paused
        let changed = queue.members[m].missedRing(caller: caller.uniqueID, at: now, retry: queue.settings.retry, autoPause: queue.settings.autoPause)
        let member = queue.members[m]
        log(QueueLogEntry(time: now, callID: caller.uniqueID, queue: queue.settings.name, agent: member.name, event: "RINGNOANSWER",
                          data: [String(milliseconds)]))
        publish(QueueEvents.agent("AgentRingNoAnswer", caller: caller, agent: agent, queue: queue.settings.name, member: member,
                                  [.init("RingTime", String(milliseconds))], at: now))
        guard changed else { return }
        if member.paused, !wasPaused {
            log(QueueLogEntry(time: now, callID: "NONE", queue: queue.settings.name, agent: member.name, event: "PAUSE", data: [member.pausedReason]))
            publish(QueueEvents.member("QueueMemberPause", queue: queue.settings, member, device: device(of: member), at: now))
        }
        announceStatus(queue.settings, member)
    }

    /// A member answered. True when it is the first (the caller's task announces and bridges
    /// it); false when another member already answered for this caller (keep it in reserve in
    /// case the first drops before the bridge).
    public func answered(queue name: String, caller uniqueID: String, interface: String) -> Bool {
        guard var queue = queues[name], let c = queue.callers.firstIndex(where: { $0.uniqueID == uniqueID }) else { return false }
        guard queue.callers[c].answeredBy == nil else { return false }
        queue.callers[c].answeredBy = interface
        queues[name] = queue
        return true
    }

    /// The answering member hung up before the bridge (AGENTDUMP, AgentDump): it is free again
    /// and the caller's other ringing members go on ringing.
    public func agentDumped(queue name: String, caller: ChannelSnapshot, interface: String, agent: ChannelSnapshot?) {
        guard var queue = queues[name], let m = queue.memberIndex(interface) else { return }
        let now = clock()
        if let c = queue.callers.firstIndex(where: { $0.uniqueID == caller.uniqueID }) {
            queue.callers[c].ringing.remove(queue.members[m].interface)
            if queue.callers[c].answeredBy == queue.members[m].interface { queue.callers[c].answeredBy = nil }
        }
        let changed = queue.members[m].dumped(caller: caller.uniqueID)
        let member = queue.members[m]
        queues[name] = queue
        log(QueueLogEntry(time: now, callID: caller.uniqueID, queue: name, agent: member.name, event: "AGENTDUMP"))
        publish(QueueEvents.agent("AgentDump", caller: caller, agent: agent, queue: name, member: member, at: now))
        if changed { announceStatus(queue.settings, member) }
        dispatch(name)
    }

    /// The caller and member are bridged (CONNECT, QueueCallerLeave, AgentConnect). The caller
    /// leaves the line; its other ringing members are told to stop.
    public func connected(queue name: String, caller: ChannelSnapshot, interface: String, agent: ChannelSnapshot, ringTime: Duration) {
        guard var queue = queues[name], let c = queue.callers.firstIndex(where: { $0.uniqueID == caller.uniqueID }),
              let m = queue.memberIndex(interface) else { return }
        let now = clock()
        let entry = queue.callers.remove(at: c)
        let holdTime = seconds(from: entry.joinedAt, to: now)
        let ringSeconds = Int(ringTime.components.seconds)
        _ = queue.members[m].connect(caller: caller.uniqueID, at: now)
        for other in entry.ringing where other != queue.members[m].interface {
            if let o = queue.memberIndex(other) {
                logRingCanceled(queue.members[o], caller: caller.uniqueID, queue: name, at: now)
                if queue.members[o].ringCancelled(caller: caller.uniqueID) { announceStatus(queue.settings, queue.members[o]) }
            }
            entry.assignments.yield(.cancelRing(interface: other))
        }
        entry.assignments.finish()
        queue.statistics.recordAnswer(holdTime: holdTime, serviceLevel: queue.settings.serviceLevel)
        let member = queue.members[m]
        connectedCalls[caller.uniqueID] = ConnectedCall(queue: name, interface: member.interface, agentID: agent.uniqueID,
                                                        holdTime: holdTime, originalPosition: entry.originalPosition,
                                                        connectedAt: now)
        queues[name] = queue
        tellPositions(in: queue, from: c)
        log(QueueLogEntry(time: now, callID: caller.uniqueID, queue: name, agent: member.name, event: "CONNECT",
                          data: [String(holdTime), agent.uniqueID, String(ringSeconds)]))
        announceStatus(queue.settings, member)
        publish(QueueEvents.caller("QueueCallerLeave", caller, [
            .init("Queue", name), .init("Position", String(c + 1)), .init("Count", String(queue.callers.count)),
        ], at: now))
        publish(QueueEvents.agent("AgentConnect", caller: caller, agent: agent, queue: name, member: member,
                                  [.init("HoldTime", String(holdTime)), .init("RingTime", String(ringSeconds))], at: now))
        persist()
        dispatch(name)
    }

    /// RINGCANCELED with the ring time in ms, for a member whose ringing stops because the
    /// caller left or another member answered (app_queue 18.x; shared reference). No manager
    /// event: the member's leg only gets its DialEnd CANCEL.
    private func logRingCanceled(_ member: QueueMember, caller uniqueID: String, queue name: String, at now: Date) {
        guard let since = member.ringingSince(caller: uniqueID) else { return }
        log(QueueLogEntry(time: now, callID: uniqueID, queue: name, agent: member.name, event: "RINGCANCELED",
                          data: [String(Self.milliseconds(from: since, to: now))]))
    }

    struct ConnectedCall {
        var queue: String
        var interface: String
        /// The agent leg's Uniqueid.
        var agentID: String
        var holdTime: Int
        var originalPosition: Int
        var connectedAt: Date
    }
    var connectedCalls: [String: ConnectedCall] = [:]

    /// The bridged call ended (COMPLETECALLER/COMPLETEAGENT, AgentComplete); the member starts
    /// wrap-up.
    public func completed(caller: ChannelSnapshot, agent: ChannelSnapshot?, by reason: CompletionReason) {
        guard let call = connectedCalls.removeValue(forKey: caller.uniqueID), var queue = queues[call.queue],
              let m = queue.memberIndex(call.interface) else { return }
        let now = clock()
        let talk = seconds(from: call.connectedAt, to: now)
        _ = queue.members[m].complete(caller: caller.uniqueID, at: now, wrapup: queue.settings.wrapupTime)
        queue.statistics.recordTalk(seconds: talk)
        let member = queue.members[m]
        queues[call.queue] = queue
        let times = [String(call.holdTime), String(talk), String(call.originalPosition)]
        switch reason {
        case .caller, .agent:
            log(QueueLogEntry(time: now, callID: caller.uniqueID, queue: call.queue, agent: member.name,
                              event: reason == .caller ? "COMPLETECALLER" : "COMPLETEAGENT", data: times))
        case .transfer(let exten, let context):
            log(QueueLogEntry(time: now, callID: caller.uniqueID, queue: call.queue, agent: member.name,
                              event: "BLINDTRANSFER", data: [exten, context] + times))
        case .attendedTransfer(let bridge):
            log(QueueLogEntry(time: now, callID: caller.uniqueID, queue: call.queue, agent: member.name,
                              event: "ATTENDEDTRANSFER", data: ["BRIDGE", bridge] + times))
        }
        publish(QueueEvents.agent("AgentComplete", caller: caller, agent: agent, queue: call.queue, member: member, [
            .init("HoldTime", String(call.holdTime)), .init("TalkTime", String(talk)), .init("Reason", reason.eventReason),
        ], at: now))
        announceStatus(queue.settings, member)
        persist()
        scheduleTimer()
        dispatchAll()
    }

    /// An attended transfer by the agent (of the caller) or by the caller (of the agent) of a
    /// bridged queue call: the call is complete now (ATTENDEDTRANSFER, AgentComplete), as
    /// app_queue has it; the bridge's later end logs nothing more.
    public func attendedTransfer(_ transfer: CompletedAttendedTransfer) {
        let (transferer, transferee) = (transfer.transferer, transfer.transferee)
        if let call = connectedCalls[transferee.uniqueID], call.agentID == transferer.uniqueID {
            completed(caller: transferee, agent: transferer, by: .attendedTransfer(bridge: transfer.bridgeID))
        } else if let call = connectedCalls[transferer.uniqueID], call.agentID == transferee.uniqueID {
            completed(caller: transferer, agent: transferee, by: .attendedTransfer(bridge: transfer.bridgeID))
        }
    }

    // MARK: Dispatch

    /// Offers free members to waiting callers, best caller first (app_queue with autofill):
    /// each caller that is not already ringing anyone gets the member(s) its strategy picks.
    func dispatch(_ name: String) {
        guard let settings = queues[name]?.settings else { return }
        let now = clock()
        let engaged = engagedInterfaces()
        // The members free now, worked out once per pass (not per caller): a pass costs
        // O(callers + members), however many queues share the agents.
        let free = queues[name]!.members.filter { canRing($0, in: settings, engaged: engaged) }
        let random = self.random
        // In place: no copy of the queue's member and caller arrays per pass.
        let rung = Self.offer(free, to: &queues[name]!, at: now, random: random)
        for m in rung { announceStatus(settings, queues[name]!.members[m]) }
        scheduleTimer()
    }

    /// Hands `free` members to the queue's waiting callers, best caller first; returns the
    /// indexes of the members now ringing.
    private static func offer(_ free: [QueueMember], to queue: inout QueueState, at now: Date, random: (Int) -> Int) -> [Int] {
        var free = free
        var rung: [Int] = []
        for c in queue.callers.indices {
            let caller = queue.callers[c]
            guard caller.answeredBy == nil, caller.ringing.isEmpty, !(free.isEmpty && caller.tried.isEmpty) else { continue }
            if let retry = caller.retryAfter, retry > now { continue }
            _ = queue.callers[c].penalties.advance(waited: Int(now.timeIntervalSince(caller.joinedAt)))
            let penalties = queue.callers[c].penalties
            let reachable = free.filter { penalties.allows($0.penalty) }
            // Nobody free within its penalties yet: it waits (no round is used up).
            guard !reachable.isEmpty || free.isEmpty else { continue }
            let candidates = caller.tried.isEmpty ? reachable : reachable.filter { !caller.tried.contains($0.interface) }
            guard !candidates.isEmpty else {
                // A full round without an answer: wait `retry` before the next one.
                queue.callers[c].tried = []
                queue.callers[c].attemptStartedAt = nil
                queue.callers[c].retryAfter = now.addingTimeInterval(TimeInterval(queue.settings.retry))
                continue
            }
            let chosen = queue.selection.choose(from: candidates, random: random)
            let timeout = ringTimeout(for: &queue.callers[c], settings: queue.settings, at: now)
            for member in chosen {
                guard let m = queue.memberIndex(member.interface), queue.members[m].ring(caller: caller.uniqueID, at: now) else { continue }
                queue.callers[c].ringing.insert(member.interface)
                queue.callers[c].tried.insert(member.interface)
                rung.append(m)
                free.removeAll { $0.interface == member.interface }
                caller.assignments.yield(.ring(RingAssignment(
                    interface: member.interface, memberName: member.name, spokenNumber: member.spokenNumber,
                    timeout: timeout)))
            }
            if let last = chosen.last { queue.selection.lastOrder = last.order }
        }
        return rung
    }

    /// The ring time for the member(s) about to ring for `caller`: the queue's `timeout` for a
    /// new attempt; within an attempt (a member refused), what is left of it — and when less
    /// than half a second is left, a new attempt (app_queue: `ast_remaining_ms(...) > 500`).
    /// `ringall` rings everyone at once, so each round is a new attempt.
    private static func ringTimeout(for caller: inout QueueCaller, settings: QueueSettings, at now: Date) -> Duration {
        let full = Duration.seconds(settings.memberTimeout)
        if settings.strategy != .ringall, let started = caller.attemptStartedAt {
            let left = full - .milliseconds(Int64(milliseconds(from: started, to: now)))
            if left > .milliseconds(500) { return left }
        }
        caller.attemptStartedAt = now
        return full
    }

    static func milliseconds(from start: Date, to end: Date) -> Int {
        max(0, Int((end.timeIntervalSince(start) * 1000).rounded()))
    }

    func dispatchAll() {
        for name in byWeight(queueNames) { dispatch(name) }
    }

    /// Queues with a higher `weight` are offered shared members first (app_queue's weight:
    /// an agent in a sales and a support queue takes the heavier queue's caller).
    func byWeight(_ names: [String]) -> [String] {
        names.enumerated().sorted { lhs, rhs in
            let left = queues[lhs.element]?.settings.weight ?? 0, right = queues[rhs.element]?.settings.weight ?? 0
            return left == right ? lhs.offset < rhs.offset : left > right
        }.map(\.element)
    }

    /// Whether `member` may be rung now: free in this queue, not ringing or talking for another
    /// queue, and its device reachable (and idle unless `ringinuse=yes`).
    func canRing(_ member: QueueMember, in settings: QueueSettings, engaged: Set<String>? = nil) -> Bool {
        guard member.isFree, !(engaged ?? engagedInterfaces()).contains(member.interface) else { return false }
        let state = device(of: member)
        guard state.isReachable else { return false }
        return member.ringsInUse(settings) || state.isIdle || state == .ringing
    }

    /// Interfaces ringing, on a call or in wrap-up in any queue (members shared between
    /// queues; wrap-up counts everywhere, as app_queue's `shared_lastcall`).
    func engagedInterfaces() -> Set<String> {
        var engaged = Set<String>()
        for queue in queues.values {
            for i in queue.members.indices {
                switch queue.members[i].activity {
                case .ringing, .onCall, .wrapUp: engaged.insert(queue.members[i].interface)
                case .idle, .ringNoAnswer: continue
                }
            }
        }
        return engaged
    }

    func device(of member: QueueMember) -> DeviceState {
        devices[member.stateInterface] ?? .unknown
    }

    /// Nil when the queue has a usable member under `conditions`; otherwise true when members
    /// were left out for being unavailable/invalid (…UNAVAIL), false when simply none (…EMPTY).
    func emptiness(of queue: QueueState, under conditions: EmptyConditions) -> Bool? {
        var sawUnavailable = false
        for member in queue.members {
            let state = device(of: member)
            if conditions.contains(.paused), member.paused { continue }
            if conditions.contains(.inUse), state == .inUse || state == .busy || state == .onHold || member.inCall { continue }
            if conditions.contains(.ringing), state == .ringing { continue }
            if conditions.contains(.unavailable), state == .unavailable { sawUnavailable = true; continue }
            if conditions.contains(.invalid), state == .invalid { sawUnavailable = true; continue }
            if conditions.contains(.unknown), state == .unknown { continue }
            if conditions.contains(.wrapup), case .wrapUp = member.activity { continue }
            return nil
        }
        return sawUnavailable
    }

    /// leavewhenempty: tells waiting callers of queues now empty to leave.
    func checkLeaveWhenEmpty() {
        for name in queueNames {
            guard let queue = queues[name], !queue.settings.leaveWhenEmpty.isEmpty, !queue.callers.isEmpty,
                  let unavailable = emptiness(of: queue, under: queue.settings.leaveWhenEmpty) else { continue }
            for caller in queue.callers where caller.answeredBy == nil {
                caller.assignments.yield(.leave(unavailable ? .leaveUnavailable : .leaveEmpty))
            }
        }
    }

    // MARK: Time

    /// Ends wrap-ups and ring-no-answer pauses that are due, then dispatches (the timer calls
    /// this; tests call it after moving their clock).
    public func refresh() {
        let now = clock()
        for name in queueNames {
            guard var queue = queues[name] else { continue }
            var changed: [QueueMember] = []
            for m in queue.members.indices where queue.members[m].expire(at: now) { changed.append(queue.members[m]) }
            queues[name] = queue
            for member in changed { announceStatus(queue.settings, member) }
        }
        timerDeadline = nil
        dispatchAll()
    }

    /// Sleeps until the earliest wrap-up/retry deadline, then refreshes.
    func scheduleTimer() {
        let now = clock()
        var earliest: Date?
        for queue in queues.values {
            for i in queue.members.indices {
                if let expiry = queue.members[i].expiry, earliest.map({ expiry < $0 }) ?? true { earliest = expiry }
            }
            for i in queue.callers.indices {
                if let retry = queue.callers[i].retryAfter, retry > now, earliest.map({ retry < $0 }) ?? true { earliest = retry }
                // The caller's next penalty change may bring members within reach.
                if let next = queue.callers[i].penalties.pending.first {
                    let due = queue.callers[i].joinedAt.addingTimeInterval(TimeInterval(next.after))
                    if earliest.map({ due < $0 }) ?? true { earliest = due }
                }
            }
        }
        guard let earliest else { return }
        if let current = timerDeadline, current <= earliest, timer != nil { return }
        timer?.cancel()
        timerDeadline = earliest
        let delay = max(0, earliest.timeIntervalSince(clock()))
        timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000) + 5))
            guard !Task.isCancelled else { return }
            await self?.refresh()
        }
    }

    // MARK: Output

    /// Builds the event only when someone can read it.
    func publish(_ event: @autoclosure () -> ManagerEvent) {
        guard let bus else { return }
        bus.publish(event())
    }

    func log(_ entry: QueueLogEntry) { queueLog?.write(entry) }

    func announceStatus(_ settings: QueueSettings, _ member: QueueMember) {
        publish(QueueEvents.member("QueueMemberStatus", queue: settings, member, device: device(of: member), at: clock()))
    }

    /// Saves soon: changes within half a second are written together, so a busy queue doesn't
    /// rewrite the file for every call.
    func persist() {
        guard store != nil, !savePending else { return }
        savePending = true
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(500))
            await self?.saveNow()
        }
    }

    /// Writes the persistent state now (shutdown, tests).
    public func saveNow() {
        savePending = false
        guard let store else { return }
        var members: [String: [QueueMember]] = [:]
        var statistics: [String: QueueStatistics] = [:]
        for (name, queue) in queues {
            members[name] = queue.members.map(\.persisted)
            statistics[name] = queue.statistics
        }
        store.save(SavedQueueState(members: members, statistics: statistics), logger: logger)
    }

    func seconds(from start: Date, to end: Date) -> Int {
        max(0, Int(end.timeIntervalSince(start).rounded(.down)))
    }
}

extension String {
    /// `sip/811` and `SIP/811` name one device: the technology is case-insensitive.
    var uppercasedTechnology: String {
        guard let slash = firstIndex(of: "/") else { return self }
        return self[..<slash].uppercased() + self[slash...]
    }
}
