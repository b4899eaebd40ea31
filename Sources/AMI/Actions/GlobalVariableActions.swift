import Dialplan
import PBXCore

/// Getvar and Setvar without `Channel:` — the dialplan's global variables (ami.md §8.6).
/// With a `Channel:` they answer `No such channel`: pbxd has no registry of live channels to
/// look one up in yet (channel variables and functions need it).
enum GlobalVariableActions {
    static func register(into registry: ManagerActionRegistry, globals: GlobalVariables, bus: EventBus) {
        registry.register(ManagerAction(name: "Getvar", authority: [.call, .reporting]) { request in
            guard let name = nonEmpty(request["Variable"]) else { return .error("No variable specified") }
            if nonEmpty(request["Channel"]) != nil { return .error("No such channel") }
            guard !name.contains("(") else { return .error("GetVar of a function requires a Channel") }
            return .success(message: nil, fields: [.init("Variable", name), .init("Value", globals[name] ?? "")])
        })
        registry.register(ManagerAction(name: "Setvar", authority: .call) { request in
            guard let name = nonEmpty(request["Variable"]) else { return .error("No variable specified") }
            if nonEmpty(request["Channel"]) != nil { return .error("No such channel") }
            let value = request["Value"] ?? ""
            globals[name] = value
            // A global VarSet has `Channel: none` and `Uniqueid: none` for the channel block.
            bus.publish(ManagerEvent(name: "VarSet", class: .dialplan, fields: [
                .init("Channel", "none"), .init("Uniqueid", "none"), .init("Variable", name), .init("Value", value),
            ]))
            return .success(message: "Variable Set")
        })
    }
}
