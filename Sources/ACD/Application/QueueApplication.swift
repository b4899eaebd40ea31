import Dialplan
import Foundation
import PBXCore

/// Queue() options as app_queue reads them.
struct QueueOptions: Sendable, Equatable {
    /// `r`: ring instead of music on hold.
    var ringInsteadOfMusic = false
    /// `n`: no retries — leave (TIMEOUT) once the members tried did not answer.
    var noRetry = false
    /// `c`: go on in the dialplan when the member hangs up (default: the caller is hung up).
    var continueAfterAgent = false
    /// `t`/`T` (blind transfer by the member/caller), `h`/`H` (disconnect code): the bridge's
    /// in-call features (features.conf).
    var bridgeFeatures = BridgeFeatures.none

    init(_ text: String) {
        for letter in text {
            switch letter {
            case "r": ringInsteadOfMusic = true
            case "n": noRetry = true
            case "c": continueAfterAgent = true
            default: continue
            }
        }
        bridgeFeatures = BridgeFeatures(options: text)
    }
}

/// `Queue(queuename[,options[,URL[,announceoverride[,timeout[,AGI[,macro[,gosub[,rule]]]]]]]])`
/// (app_queue; the AGI, macro and gosub arguments are not supported and must be empty). Sets
/// `QUEUESTATUS` when it returns without a bridged call: TIMEOUT, FULL, JOINEMPTY, LEAVEEMPTY,
/// JOINUNAVAIL, LEAVEUNAVAIL (CONTINUE is app_queue's value for a call that went on after
/// the member hung up with option `c`). `QUEUE_PRIO` gives the caller's priority;
/// `QUEUE_MAX_PENALTY`/`QUEUE_MIN_PENALTY` the member penalties it may reach, which the
/// queuerules.conf rule (the `rule` argument, else the queue's `defaultrule`) changes as it waits.
enum QueueApplication {
    static func application(_ services: ACDServices) -> Application {
        Application(name: "Queue") { execution, data in
            try await run(execution, data: data, services: services)
        }
    }

    /// The caller's penalty limits from its variables and the rule it follows.
    static func callerPenalties(_ execution: ChannelExecution, rule: String?, engine: QueueEngine) async throws -> CallerPenalties {
        var penalties = CallerPenalties(
            max: Int(await execution.value(of: "QUEUE_MAX_PENALTY") ?? ""),
            min: Int(await execution.value(of: "QUEUE_MIN_PENALTY") ?? ""))
        if let rule {
            guard let changes = await engine.penaltyRule(named: rule) else {
                throw DialplanError("Queue: no rule '\(rule)' in queuerules.conf")
            }
            penalties.pending = changes
        }
        return penalties
    }

    static func run(_ execution: ChannelExecution, data: String, services: ACDServices) async throws -> ApplicationResult {
        let arguments = ArgumentSplitter.split(data).map { $0.trimmingCharacters(in: .whitespaces) }
        let name = arguments.first ?? ""
        guard !name.isEmpty else { throw DialplanError("Queue requires an argument: queuename[,options[,URL[,announceoverride[,timeout]]]]") }
        guard let settings = await services.engine.settings(of: name) else {
            throw DialplanError("Queue: no queue named '\(name)' in queues.conf")
        }
        let options = QueueOptions(arguments.count > 1 ? arguments[1] : "")
        var timeout: Duration?
        if arguments.count > 4, !arguments[4].isEmpty {
            guard let seconds = Int(arguments[4]), seconds >= 0 else { throw DialplanError("Queue: timeout '\(arguments[4])' is not a number of seconds") }
            if seconds > 0 { timeout = .seconds(seconds) }
        }
        let priority = Int(await execution.value(of: "QUEUE_PRIO") ?? "") ?? 0
        if arguments.count > 5, arguments[5...min(7, arguments.count - 1)].contains(where: { !$0.isEmpty }) {
            throw DialplanError("Queue: the AGI, macro and gosub arguments are not supported")
        }
        let penalties = try await callerPenalties(execution, rule: arguments.count > 8 && !arguments[8].isEmpty ? arguments[8] : settings.defaultRule,
                                                  engine: services.engine)
        let channel = execution.channel
        // Hold music and announcements need the call answered (Asterisk would send them as
        // early media; pbxd answers, as the sample dialplans do before Queue anyway).
        if await channel.state != .up { try await channel.answer() }
        guard let joined = await services.engine.join(queue: name, caller: await channel.snapshot, priority: priority, penalties: penalties) else {
            throw DialplanError("Queue: no queue named '\(name)'")
        }
        guard case .joined(_, let instructions) = joined else {
            if case .refused(let status) = joined {
                execution.setVariable("QUEUESTATUS", status.rawValue)
                execution.logger.info("Queue(\(name)): not joined, QUEUESTATUS=\(status.rawValue)")
            }
            execution.returnedWithoutWaiting()
            return .proceed
        }
        let executor = execution.executor
        let callerID = await execution.callerID().number
        let session = QueueCallSession(
            engine: services.engine, dialer: executor.dialer, channel: channel, settings: settings, options: options,
            timeout: timeout, hold: services.holdSound(for: settings, ringing: options.ringInsteadOfMusic),
            language: execution.language,
            exitKey: { key in
                guard let context = settings.context else { return false }
                return executor.hasExtension(context: context, exten: String(key), callerID: callerID)
            },
            logger: execution.logger, transferTarget: execution.redirectTarget)
        let format = settings.monitorFormat
        let outcome = await session.run(instructions: instructions) {
            if let format { await QueueRecording.start(execution, format: format) }
        }
        switch outcome {
        case .completed(let reason):
            if reason == .agent, options.continueAfterAgent, !(await channel.isHungUp) {
                execution.setVariable("QUEUESTATUS", QueueStatus.continue.rawValue)
                return .proceed
            }
            return .hangup(.normalClearing)
        case .exited(.abandon):
            return .hangup(nil)
        case .exited(.timeout):
            execution.setVariable("QUEUESTATUS", QueueStatus.timeout.rawValue)
        case .exited(.empty):
            execution.setVariable("QUEUESTATUS", QueueStatus.leaveEmpty.rawValue)
        case .exited(.key(let key)):
            if let context = settings.context {
                try await execution.jump(context: context, exten: String(key), priority: "1")
            }
        case .leftEmpty(let status):
            execution.setVariable("QUEUESTATUS", status.rawValue)
        }
        return .proceed
    }
}
