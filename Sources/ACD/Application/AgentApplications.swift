import Dialplan
import PBXCore

/// Hot-desking from any phone (queues.conf `[agents]`), for feature codes in the dialplan:
///
/// ```
/// exten => _*45.,1,AgentHotDeskLogin(${EXTEN:3})   ; *45 + agent number + PIN
/// exten => *46,1,AgentHotDeskLogout()
/// exten => *47,1,AgentHotDeskPause()              ; toggles pause in every queue
/// exten => *48,1,AgentWrapupEnd()                 ; ends wrap-up now
/// ```
/// Each answers, does its job on the phone that called (`SIP/<peer>`), confirms with a prompt
/// and sets `AGENTSTATUS` (LOGGEDIN, BADLOGIN, LOGGEDOUT, NOTLOGGEDIN, PAUSED, UNPAUSED,
/// WRAPUPENDED, NOWRAPUP).
enum AgentApplications {
    static func all(_ engine: QueueEngine) -> [Application] {
        [
            Application(name: "AgentHotDeskLogin") { execution, data in
                let digits = data.trimmingCharacters(in: .whitespaces)
                let interface = MemberApplications.interface(of: execution.channel)
                switch await engine.agentLogin(digits: digits, interface: interface, callID: execution.channel.uniqueID) {
                case .success(let agent):
                    execution.logger.info("agent \(agent.number) logged in at \(interface)")
                    return await confirm(execution, "LOGGEDIN", ["agent-loginok"])
                case .failure:
                    execution.logger.notice("agent login refused at \(interface)")
                    return await confirm(execution, "BADLOGIN", ["agent-incorrect"])
                }
            },
            Application(name: "AgentHotDeskLogout") { execution, _ in
                let interface = MemberApplications.interface(of: execution.channel)
                let removed = await engine.agentLogout(interface: interface, callID: execution.channel.uniqueID)
                return await confirm(execution, removed ? "LOGGEDOUT" : "NOTLOGGEDIN", ["agent-loggedoff"])
            },
            Application(name: "AgentHotDeskPause") { execution, data in
                let interface = MemberApplications.interface(of: execution.channel)
                guard let paused = await engine.togglePause(interface: interface, reason: data.trimmingCharacters(in: .whitespaces)) else {
                    return await confirm(execution, "NOTLOGGEDIN", ["agent-incorrect"])
                }
                return await confirm(execution, paused ? "PAUSED" : "UNPAUSED", [paused ? "agent-paused" : "agent-unpaused"])
            },
            Application(name: "AgentWrapupEnd") { execution, _ in
                let ended = await engine.endWrapUp(interface: MemberApplications.interface(of: execution.channel))
                return await confirm(execution, ended ? "WRAPUPENDED" : "NOWRAPUP", ["agent-wrapup-ended"])
            },
        ]
    }

    private static func confirm(_ execution: ChannelExecution, _ status: String, _ prompts: [String]) async -> ApplicationResult {
        execution.setVariable("AGENTSTATUS", status)
        if await execution.channel.state != .up { try? await execution.channel.answer() }
        _ = await execution.channel.play(prompts, language: execution.language, interruptDigits: "")
        return .proceed
    }
}
