import Dialplan
import PBXCore

/// AddQueueMember, RemoveQueueMember, PauseQueueMember, UnpauseQueueMember (app_queue), each
/// setting its status variable as Asterisk does.
enum MemberApplications {
    static func all(_ engine: QueueEngine) -> [Application] {
        [addMember(engine), removeMember(engine), pause(engine, true), pause(engine, false)]
    }

    /// The calling phone as a member interface: `SIP/811-00000003` → `SIP/811`.
    static func interface(of channel: any CallChannel) -> String {
        guard let dash = channel.name.lastIndex(of: "-") else { return channel.name }
        return String(channel.name[..<dash])
    }

    static func fields(_ data: String) -> [String] {
        ArgumentSplitter.split(data).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// `AddQueueMember(queue[,interface[,penalty[,options[,membername[,stateinterface]]]]])`
    /// → `AQMSTATUS` ADDED, MEMBERALREADY, NOSUCHQUEUE.
    static func addMember(_ engine: QueueEngine) -> Application {
        Application(name: "AddQueueMember", isInstant: true) { execution, data in
            let f = fields(data)
            guard let queue = f.first, !queue.isEmpty else { throw DialplanError("AddQueueMember requires an argument (queuename[,interface[,penalty[,options[,membername[,stateinterface]]]]])") }
            let interface = f.count > 1 && !f[1].isEmpty ? f[1] : interface(of: execution.channel)
            var penalty = 0
            if f.count > 2, !f[2].isEmpty {
                guard let value = Int(f[2]), value >= 0 else { throw DialplanError("AddQueueMember: penalty '\(f[2])' is not a number ≥ 0") }
                penalty = value
            }
            let memberName = f.count > 4 && !f[4].isEmpty ? f[4] : nil
            let stateInterface = f.count > 5 && !f[5].isEmpty ? f[5] : nil
            let result = await engine.addMember(queue: queue, interface: interface, penalty: penalty, memberName: memberName,
                                                stateInterface: stateInterface, callID: execution.channel.uniqueID)
            switch result {
            case .success: execution.setVariable("AQMSTATUS", "ADDED")
            case .failure(.alreadyMember): execution.setVariable("AQMSTATUS", "MEMBERALREADY")
            case .failure: execution.setVariable("AQMSTATUS", "NOSUCHQUEUE")
            }
            return .proceed
        }
    }

    /// `RemoveQueueMember(queue[,interface])` → `RQMSTATUS` REMOVED, NOTINQUEUE, NOSUCHQUEUE,
    /// NOTDYNAMIC.
    static func removeMember(_ engine: QueueEngine) -> Application {
        Application(name: "RemoveQueueMember", isInstant: true) { execution, data in
            let f = fields(data)
            guard let queue = f.first, !queue.isEmpty else { throw DialplanError("RemoveQueueMember requires an argument (queuename[,interface])") }
            let interface = f.count > 1 && !f[1].isEmpty ? f[1] : interface(of: execution.channel)
            switch await engine.removeMember(queue: queue, interface: interface, callID: execution.channel.uniqueID) {
            case .success: execution.setVariable("RQMSTATUS", "REMOVED")
            case .failure(.notMember): execution.setVariable("RQMSTATUS", "NOTINQUEUE")
            case .failure(.notDynamic): execution.setVariable("RQMSTATUS", "NOTDYNAMIC")
            case .failure: execution.setVariable("RQMSTATUS", "NOSUCHQUEUE")
            }
            return .proceed
        }
    }

    /// `PauseQueueMember([queue],interface[,options[,reason]])` → `PQMSTATUS` PAUSED/NOTFOUND;
    /// `UnpauseQueueMember(...)` → `UPQMSTATUS` UNPAUSED/NOTFOUND.
    static func pause(_ engine: QueueEngine, _ paused: Bool) -> Application {
        let name = paused ? "PauseQueueMember" : "UnpauseQueueMember"
        let variable = paused ? "PQMSTATUS" : "UPQMSTATUS"
        return Application(name: name, isInstant: true) { execution, data in
            let f = fields(data)
            guard f.count > 1, !f[1].isEmpty else { throw DialplanError("\(name) requires an argument ([queuename],interface[,options][,reason])") }
            let queue = f[0].isEmpty ? nil : f[0]
            let reason = f.count > 3 ? f[3] : ""
            switch await engine.setPaused(paused, interface: f[1], queue: queue, reason: reason) {
            case .success: execution.setVariable(variable, paused ? "PAUSED" : "UNPAUSED")
            case .failure: execution.setVariable(variable, "NOTFOUND")
            }
            return .proceed
        }
    }
}
