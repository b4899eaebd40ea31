import PBXCore

/// `Dial(Tech/resource[&Tech2/resource2...][,timeout[,options[,URL]]])` (Asterisk `app_dial`).
///
/// The ringing, answering and bridging are the injected `CallDialer`'s job; Dial() turns its
/// arguments into a `DialRequest` and the `DialResult` into channel variables:
/// `DIALSTATUS`, `HANGUPCAUSE` (the callee's cause when the dial failed) and `DIALEDPEERNAME`.
///
/// After it returns, as in Asterisk:
/// - the caller hung up (e.g. `CANCEL`) → the dialplan stops;
/// - the call was answered and bridged → the dialplan stops and the caller is hung up, unless
///   option `g` ("go on") is given and the caller is still there;
/// - otherwise (busy, no answer, unavailable…) → the next priority, where `DIALSTATUS` decides.
enum DialApplication {
    static let application = Application(name: "Dial") { execution, data in
        try await dial(execution, data: data)
    }

    /// The parsed arguments (exposed for tests and for Queue() later).
    struct Arguments: Equatable {
        var targets: [Target]
        var timeout: Duration?
        var options: String
        /// Targets written without `Tech/` (skipped, as Asterisk does, with a warning).
        var invalidTargets: [String]

        struct Target: Equatable {
            var technology: String
            var resource: String
        }
    }

    static func parse(_ data: String) -> Arguments {
        let fields = ArgumentSplitter.split(data)
        var targets: [Arguments.Target] = []
        var invalid: [String] = []
        for item in fields[0].split(separator: "&") {
            let text = item.trimmingCharacters(in: .whitespaces)
            guard let slash = text.firstIndex(of: "/"), slash != text.startIndex, text.index(after: slash) < text.endIndex else {
                if !text.isEmpty { invalid.append(text) }
                continue
            }
            targets.append(.init(technology: String(text[..<slash]), resource: String(text[text.index(after: slash)...])))
        }
        let timeout = fields.count > 1 ? Duration.dialplanSeconds(fields[1]) : nil
        let options = fields.count > 2 ? fields[2].trimmingCharacters(in: .whitespaces) : ""
        return Arguments(targets: targets, timeout: timeout, options: options, invalidTargets: invalid)
    }

    /// Whether the option letters (outside their parenthesised parameters) include `letter`:
    /// `M(g)` must not count as `g`.
    static func hasOption(_ letter: Character, in options: String) -> Bool {
        var depth = 0
        for ch in options {
            switch ch {
            case "(": depth += 1
            case ")": depth = max(0, depth - 1)
            case letter where depth == 0: return true
            default: continue
            }
        }
        return false
    }

    static func dial(_ execution: ChannelExecution, data: String) async throws -> ApplicationResult {
        guard !data.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DialplanError("Dial requires an argument (technology/resource)")
        }
        let arguments = parse(data)
        for bad in arguments.invalidTargets {
            execution.logger.warning("Dial argument '\(bad)' takes format (technology/resource); skipped")
        }
        guard !arguments.targets.isEmpty else {
            execution.returnedWithoutWaiting()
            execution.setVariable("DIALSTATUS", DialStatus.chanUnavail.rawValue)
            return .proceed
        }
        let request = DialRequest(
            targets: arguments.targets.map { ($0.technology, $0.resource) },
            timeout: arguments.timeout,
            options: arguments.options,
            inheritedVariables: execution.inheritableVariables
        )
        let result = await execution.executor.dialer.dial(from: execution.channel, request: request)
        execution.setVariable("DIALSTATUS", result.status.rawValue)
        if result.status == .chanUnavail || result.status == .invalidArgs {
            // Usually decided without any signalling (peer not registered): a retry loop
            // through it must still meet the executor's loop guard.
            execution.returnedWithoutWaiting()
        }
        if let cause = result.cause { execution.hangupCause = cause }
        if let peer = result.answeredChannelName { execution.setVariable("DIALEDPEERNAME", peer) }
        execution.logger.info("Dial(\(data)) finished: DIALSTATUS=\(result.status.rawValue)",
                              metadata: ["location": "\(execution.location)"])
        if await execution.channel.isHungUp { return .hangup(nil) }
        if result.status == .answer, !hasOption("g", in: arguments.options) {
            return .hangup(.normalClearing)
        }
        return .proceed
    }
}
