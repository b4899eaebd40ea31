import Dialplan
import PBXCore

/// `WaitExten([seconds][,options])` (pbx_builtin_waitexten).
enum WaitExtenApplication {
    /// Waits up to `seconds` (default `TIMEOUT(response)`, 10 s) for a first digit, then
    /// collects more with `TIMEOUT(digit)` and routes them (see `ExtensionCollector`). On a
    /// timeout with nothing pressed, as Asterisk: the next priority if the extension has one,
    /// else `t`, else the call ends. Options (`m` music on hold) aren't supported yet and are
    /// ignored with a log line.
    static let waitExten = Application(name: "WaitExten") { execution, data in
        let arguments = ArgumentSplitter.split(data)
        let secondsText = arguments[0].trimmingCharacters(in: .whitespaces)
        var timeout = IVRTimeouts.response(execution)
        if !secondsText.isEmpty {
            if let seconds = IVRTimeouts.seconds(secondsText) {
                timeout = seconds
            } else {
                execution.logger.warning("WaitExten: '\(secondsText)' is not a number of seconds; using \(timeout)")
            }
        }
        if arguments.count > 1, !arguments[1].isEmpty {
            execution.logger.notice("WaitExten: options '\(arguments[1])' are not supported; ignored")
        }
        let channel = execution.channel
        let context = execution.location.context
        if let digit = await channel.receiveDigit(timeout: timeout) {
            return try await ExtensionCollector.collectAndRoute(execution, context: context, digits: String(digit))
        }
        if await channel.isHungUp { return .hangup(nil) }
        let executor = execution.executor
        let callerID = await execution.callerID().number
        let location = execution.location
        if executor.dialplan.findPriority(context: context, exten: location.exten, priority: location.priority + 1,
                                          callerID: callerID, at: executor.now()) != nil {
            execution.logger.info("Timeout on \(channel.name), continuing...")
            return .proceed
        }
        if executor.hasExtension(context: context, exten: SpecialExtension.timeout, callerID: callerID) {
            execution.logger.info("Timeout on \(channel.name), going to 't'")
            try await execution.jump(context: context, exten: SpecialExtension.timeout, priority: "1")
            return .proceed
        }
        execution.logger.warning("Timeout but no rule 't' in context '\(context)'; hanging up")
        return .hangup(nil)
    }
}
