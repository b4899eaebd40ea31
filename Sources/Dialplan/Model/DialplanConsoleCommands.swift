import Logging
import PBXCore

/// The dialplan's console commands, with pbx_config's names: `dialplan reload` and
/// `dialplan show [context]`. `pbxd -rx`, SIGHUP and (later) AMI `Command` all reach them
/// through the `CLICommandRegistry`.
extension LiveDialplan {
    public func registerCommands(into registry: CLICommandRegistry, logger: Logger) {
        registry.register(
            CLICommand("dialplan reload", summary: "Reload extensions and *only* extensions") { _ in
                self.reloadCommand(logger: logger)
            })
        registry.register(
            CLICommand("dialplan show", summary: "Show dialplan") { arguments in
                self.showCommand(arguments)
            })
    }

    /// Reloads and answers: the totals and any warnings, or the error (with file:line) and the
    /// fact that the old dialplan stays. Logged either way, since SIGHUP has no one to answer.
    public func reloadCommand(logger: Logger) -> CLIResult {
        switch reload() {
        case .success(let reload):
            for warning in reload.warnings { logger.warning("\(warning)") }
            logger.notice("\(reload.summary)", metadata: ["file": "\(path)"])
            return CLIResult(lines: reload.warnings.map { "WARNING: \($0)" } + [reload.summary])
        case .failure(let error):
            logger.error("Dialplan reload failed, keeping the running dialplan: \(error)")
            return .failure("Dialplan reload failed: \(error) (the running dialplan is kept)")
        }
    }

    /// `dialplan show` (every context) or `dialplan show CONTEXT`; Asterisk's `exten@context`
    /// form lists the extensions of `context` that would match `exten`, in the order tried.
    func showCommand(_ arguments: [String]) -> CLIResult {
        let dialplan = executor.dialplan
        guard let argument = arguments.first else {
            return CLIResult(lines: DialplanListing.lines(dialplan) ?? [])
        }
        guard arguments.count == 1 else { return .failure("Usage: dialplan show [[exten@]context]") }
        let parts = argument.split(separator: "@", maxSplits: 1).map(String.init)
        let context = parts.count == 2 ? parts[1] : argument
        guard var listed = DialplanListing.lines(dialplan, context: context) else {
            return .failure("There is no existence of '\(context)' context")
        }
        if parts.count == 2 {
            let matches = dialplan.matchingExtensions(context: context, exten: parts[0])
            guard !matches.isEmpty else {
                return .failure("There is no existence of '\(parts[0])' extension in '\(context)' context (or its includes)")
            }
            listed = matches.flatMap { match in
                ["[ Context '\(match.context)' created by 'pbx_config' ]"] + DialplanListing.extensionLines(match.extension) + [
                    ""
                ]
            }
            listed.append("-= \(DialplanListing.counted(matches.count, "extension", "extensions")) matched. =-")
        }
        return CLIResult(lines: listed)
    }
}
