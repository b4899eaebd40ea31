import Foundation
import Logging
import NIOConcurrencyHelpers
import PBXCore

/// One manager connection (ami.md §3–6): answers its requests one at a time, in order (pyst2
/// pairs replies with requests by order), and — once logged in — forwards the bus events its
/// user and mask admit. The transport is an `AMIOutput`, so tests drive it without sockets.
final class AMISession: Sendable {
    let context: ManagerContext
    let endpoints: SessionEndpoints
    /// `0x…` like Asterisk's session pointer, unique per connection (security events).
    let id: String
    let output: any AMIOutput
    let logger: Logger
    let state = NIOLockedValueBox(AMISessionState())

    init(context: ManagerContext, endpoints: SessionEndpoints, output: any AMIOutput, logger: Logger) {
        self.context = context
        self.endpoints = endpoints
        self.output = output
        self.logger = logger
        self.id = "0x" + String(UInt64.random(in: 0x1000_0000_0000...0x7FFF_FFFF_FFFF), radix: 16)
    }

    /// What to do with the connection after a request.
    enum Disposition: Equatable {
        case keepOpen
        case close
    }

    var isAuthenticated: Bool { state.withLockedValue { $0.isAuthenticated } }

    // MARK: Requests

    func handle(_ inbound: AMIInbound) async -> Disposition {
        switch inbound {
        case .lineTooLong:
            logger.warning("manager client sent a line longer than the limit; disconnecting")
            output.send(.error(actionID: nil, message: "Failed to parse message: line too long"))
            return .close
        case .tooManyLines:
            logger.warning("manager client sent a request with too many lines; disconnecting")
            output.send(.error(actionID: nil, message: "Too many lines in message or allocation failure"))
            return .close
        case .request(let headers):
            return await handle(ManagerRequest(headers: headers, readClasses: state.withLockedValue { $0.user?.read ?? [] }))
        }
    }

    private func handle(_ request: ManagerRequest) async -> Disposition {
        let actionID = request["ActionID"]
        let name = request.action.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else {
            output.send(.error(actionID: actionID, message: "Missing action in request"))
            publishBadFormat("Action: NONE")
            return .keepOpen
        }
        let session = state.withLockedValue { $0 }
        switch name.lowercased() {
        case "login": return await login(request)
        case "challenge": challenge(request)
        case "logoff":
            output.send(.response("Goodbye", actionID: actionID, [.init("Message", "Thanks for all the fish.")]))
            if let user = session.user, context.config.displayConnects {
                logger.info("manager user logged off", metadata: ["user": "\(user.name)"])
            }
            return .close
        default:
            guard session.isAuthenticated else {
                output.send(.error(actionID: actionID, message: "Permission denied"))
                return .keepOpen
            }
            let hold = Self.holdsEvents(name, request)
            if hold { state.withLockedValue { $0.heldEvents = [] } }
            await runAuthenticated(name, request)
            if hold { releaseHeldEvents() }
        }
        return .keepOpen
    }

    /// Events an action causes come after its reply, as in Asterisk (which flushes a session's
    /// events once the action is answered): clients such as panoramisk take an event carrying
    /// the pending ActionID (UserEvent copies it) for part of the reply. Not for actions that
    /// wait on events or on a call (WaitEvent, synchronous Originate).
    static func holdsEvents(_ name: String, _ request: ManagerRequest) -> Bool {
        switch name.lowercased() {
        case "waitevent": false
        case "originate": ["true", "yes", "1", "on", "y", "t"].contains((request["Async"] ?? "").lowercased())
        default: true
        }
    }

    /// At most this many events wait for a reply; past it they go out at once (in order).
    static let maxHeldEvents = 10_000

    private func releaseHeldEvents() {
        state.withLockedValue { state in
            for text in state.heldEvents ?? [] { output.sendRaw(text) }
            state.heldEvents = nil
        }
    }

    /// An action of a logged-in session: a session action (Events, Filter, Command,
    /// ListCommands), Originate, or one from the registry, each behind its authority.
    private func runAuthenticated(_ name: String, _ request: ManagerRequest) async {
        let actionID = request["ActionID"]
        if let builtin = SessionAction(rawValue: name.lowercased()) {
            guard state.withLockedValue({ $0.mayRun(authority: builtin.authority) }) else {
                output.send(.error(actionID: actionID, message: "Permission denied"))
                return
            }
            await run(builtin, request)
            return
        }
        if name.lowercased() == "originate", let originator = context.originator {
            let (allowed, maySystem) = state.withLockedValue { ($0.mayRun(authority: .originate), $0.mayRun(authority: .system)) }
            guard allowed else {
                output.send(.error(actionID: actionID, message: "Permission denied"))
                return
            }
            let (reply, background) = await originator.originate(request, maySystem: maySystem)
            for message in AMIMessage.reply(reply, actionID: actionID) {
                output.send(message)
            }
            if let background { Task { await background() } }
            return
        }
        guard let action = context.actions.action(named: name) else {
            output.send(.error(actionID: actionID,
                               message: "Invalid/unknown command: \(name). Use Action: ListCommands to show available commands."))
            publishBadFormat("Action: \(name)")
            return
        }
        guard state.withLockedValue({ $0.mayRun(authority: action.authority) }) else {
            output.send(.error(actionID: actionID, message: "Permission denied"))
            return
        }
        for message in AMIMessage.reply(await action.handler(request), actionID: actionID) {
            output.send(message)
        }
    }

    private func publishBadFormat(_ requestType: String) {
        let (account, session) = state.withLockedValue { ($0.user?.name, securitySession($0)) }
        context.bus.publish(SecurityEvent.requestBadFormat(requestType: requestType, account: account, session: session, now: Date()))
    }

    func securitySession(_ state: AMISessionState) -> SecurityEvent.Session {
        SecurityEvent.Session(id: id, endpoints: endpoints, authenticatedAt: state.authenticatedAt)
    }

    // MARK: Events

    /// Sends a bus event if this session may and wants to see it (ami.md §6.2).
    func deliver(_ event: ManagerEvent) {
        let (admitted, filters, timestamp) = state.withLockedValue { ($0.admits(event.eventClass), $0.filters, $0.timestampEvents) }
        guard admitted else { return }
        let text = context.eventTexts.text(for: event, timestamp: timestamp)
        guard filters.isEmpty || filters.accepts(text) else { return }
        // Under the lock, so held events and new ones keep their order.
        state.withLockedValue { state in
            state.eventsSent += 1
            guard var held = state.heldEvents else { return output.sendRaw(text) }
            held.append(text)
            if held.count > Self.maxHeldEvents {
                for text in held { output.sendRaw(text) }
                state.heldEvents = nil
            } else {
                state.heldEvents = held
            }
        }
    }
}
