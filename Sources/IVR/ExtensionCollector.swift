import Dialplan
import PBXCore

/// Collects DTMF toward an extension and routes the call there — what Asterisk's
/// `__ast_pbx_run` does when Background or WaitExten return a digit (`collect_digits`).
///
/// While the digits so far could match a longer extension, wait up to the inter-digit timeout
/// (`TIMEOUT(digit)`) for another one. Then: an existing extension → its priority 1; digits that
/// match nothing → `i` with `INVALID_EXTEN` set (or hang up when the context has no `i`).
enum ExtensionCollector {
    /// Where collected digits sent the call.
    enum Route: Equatable {
        case extensionFound(String)
        case invalid(String)
        /// Nothing matched and there is no `i`: the call ends, as in Asterisk.
        case noInvalidHandler(String)
        case hungUp
    }

    /// Continues from `digits` (already pressed) in `context`, then jumps the execution.
    static func collectAndRoute(_ execution: ChannelExecution, context: String, digits: String) async throws -> ApplicationResult {
        let route = await collect(execution, context: context, digits: digits)
        return try await apply(route, execution, context: context)
    }

    static func collect(_ execution: ChannelExecution, context: String, digits: String) async -> Route {
        var collected = digits
        let executor = execution.executor
        let callerID = await execution.callerID().number
        let timeout = IVRTimeouts.digit(execution)
        while executor.matchMore(context: context, exten: collected, callerID: callerID) {
            guard let digit = await execution.channel.receiveDigit(timeout: timeout) else {
                if await execution.channel.isHungUp { return .hungUp }
                break
            }
            collected.append(digit)
        }
        if executor.hasExtension(context: context, exten: collected, callerID: callerID) {
            return .extensionFound(collected)
        }
        if executor.hasExtension(context: context, exten: SpecialExtension.invalid, callerID: callerID) {
            return .invalid(collected)
        }
        return .noInvalidHandler(collected)
    }

    static func apply(_ route: Route, _ execution: ChannelExecution, context: String) async throws -> ApplicationResult {
        switch route {
        case .extensionFound(let exten):
            execution.logger.debug("Digits '\(exten)' go to \(exten)@\(context)")
            try await execution.jump(context: context, exten: exten, priority: "1")
            return .proceed
        case .invalid(let exten):
            execution.logger.info("Invalid extension '\(exten)' in context '\(context)'; going to 'i'")
            execution.setVariable("INVALID_EXTEN", exten)
            try await execution.jump(context: context, exten: SpecialExtension.invalid, priority: "1")
            return .proceed
        case .noInvalidHandler(let exten):
            execution.logger.warning("Invalid extension '\(exten)', but no rule 'i' in context '\(context)'; hanging up")
            return .hangup(nil)
        case .hungUp:
            return .hangup(nil)
        }
    }
}
