import Foundation
import PBXCore

/// Actions that read or change the session itself, so they live here rather than in the
/// registry: Events, Filter, Command (its failure reply keeps the output), ListCommands and
/// WaitEvent.
enum SessionAction: String, CaseIterable {
    case events, filter, command, listcommands, waitevent

    var name: String {
        switch self {
        case .events: "Events"
        case .filter: "Filter"
        case .command: "Command"
        case .listcommands: "ListCommands"
        case .waitevent: "WaitEvent"
        }
    }

    var synopsis: String {
        switch self {
        case .events: "Control Event Flow."
        case .filter: "Dynamically add filters for the current manager session."
        case .command: "Execute Asterisk CLI Command."
        case .listcommands: "List available manager commands."
        case .waitevent: "Wait for an event to occur."
        }
    }

    /// Write classes needed (ami.md §6.1).
    var authority: EventClass {
        switch self {
        case .events, .listcommands, .waitevent: []
        case .filter: .system
        case .command: .command
        }
    }
}

/// Login, Logoff and Challenge: always available, also before authentication.
let preLoginActions: [(name: String, synopsis: String)] = [
    ("Challenge", "Generate Challenge for MD5 Auth."),
    ("Login", "Login Manager."),
    ("Logoff", "Logoff Manager."),
]

extension AMISession {
    func run(_ action: SessionAction, _ request: ManagerRequest) async {
        let actionID = request["ActionID"]
        switch action {
        case .events:
            guard let mask = parseEventMask(request["EventMask"] ?? "") else {
                output.send(.error(actionID: actionID, message: "Invalid event mask"))
                return
            }
            state.withLockedValue { $0.eventMask = mask }
            output.send(.success(actionID: actionID, message: nil, [.init("Events", mask.isEmpty ? "Off" : "On")]))
        case .filter:
            output.send(addFilter(request))
        case .command:
            await command(request)
        case .listcommands:
            output.send(listCommands(actionID: actionID))
        case .waitevent:
            await waitEvent(request)
        }
    }

    /// WaitEvent (ami.md §7): returns once an event has been sent to this session after the
    /// request (events go out as they happen on a TCP session), or after `Timeout` seconds
    /// (-1 or absent: until an event, or until the connection closes).
    private func waitEvent(_ request: ManagerRequest) async {
        let actionID = request["ActionID"]
        var deadline: ContinuousClock.Instant?
        if let text = nonEmpty(request["Timeout"]) {
            guard let seconds = Int(text) else {
                output.send(.error(actionID: actionID, message: "Invalid timeout"))
                return
            }
            if seconds >= 0 { deadline = .now + .seconds(seconds) }
        }
        let start = state.withLockedValue { $0.eventsSent }
        while output.isOpen, state.withLockedValue({ $0.eventsSent }) == start {
            if let deadline, ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        output.send(.success(actionID: actionID, message: "Waiting for Event completed."))
        var complete = [ManagerEvent.Field("Event", "WaitEventComplete")]
        if let actionID, !actionID.isEmpty { complete.append(.init("ActionID", actionID)) }
        output.send(AMIMessage(complete))
    }

    /// `Filter` with `Operation: Add` (ami.md §6.4, legacy regex form).
    private func addFilter(_ request: ManagerRequest) -> AMIMessage {
        let actionID = request["ActionID"]
        guard (request["Operation"] ?? "").lowercased() == "add" else {
            return .error(actionID: actionID, message: "Unknown operation")
        }
        guard let filter = EventFilter(request["Filter"] ?? "") else {
            return .error(actionID: actionID, message: "Filter did not compile.  Check the syntax of the filter given.")
        }
        state.withLockedValue { $0.filters.add(filter) }
        return .success(actionID: actionID, message: "Success")
    }

    /// CLI commands an AMI user may not run even with `command` (Asterisk's blacklist).
    static let blacklistedCommands = [["module", "load"], ["module", "unload"], ["restart", "gracefully"]]

    private func command(_ request: ManagerRequest) async {
        let actionID = request["ActionID"]
        guard let line = request["Command"], !line.trimmingCharacters(in: .whitespaces).isEmpty else {
            output.send(.error(actionID: actionID, message: "No command provided"))
            return
        }
        let words = line.lowercased().split(separator: " ").map(String.init)
        guard !Self.blacklistedCommands.contains(where: { words.starts(with: $0) }) else {
            output.send(.error(actionID: actionID, message: "Command blacklisted"))
            return
        }
        let result = await context.commands.run(line)
        output.send(.commandOutput(result.lines, succeeded: result.succeeded, actionID: actionID))
    }

    /// One `<Action>: <synopsis> (Priv: <classes>)` line per action the user may run.
    private func listCommands(actionID: String?) -> AMIMessage {
        var entries: [(name: String, synopsis: String, authority: EventClass)] = preLoginActions.map { ($0.name, $0.synopsis, []) }
        entries += SessionAction.allCases.map { ($0.name, $0.synopsis, $0.authority) }
        entries += context.actions.all.map { ($0.name, actionSynopses[$0.name] ?? $0.name, $0.authority) }
        if context.originator != nil { entries.append(("Originate", "Originate a call.", .originate)) }
        let permitted = state.withLockedValue { state in entries.filter { state.mayRun(authority: $0.authority) } }
        return .success(actionID: actionID, message: nil,
                        permitted.map { .init($0.name, "\($0.synopsis) (Priv: \(authorityText($0.authority)))") })
    }
}
