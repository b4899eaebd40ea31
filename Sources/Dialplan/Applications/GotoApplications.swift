/// `Goto` and `GotoIf` (Asterisk `pbx_builtin_goto`, `pbx_builtin_gotoif`).
enum GotoApplications {
    static let all: [Application] = [goto, gotoIf]

    /// `Goto([[context,]exten,]priority)`; priority is a number, `+n`/`-n` or a label.
    /// A label that doesn't exist ends the call (Asterisk logs and returns -1).
    static let goto = Application(name: "Goto", isInstant: true) { execution, data in
        try await jump(execution, to: data)
        return .proceed
    }

    /// `GotoIf(condition?[labeliftrue][:labeliffalse])`: each branch is a Goto target;
    /// an empty branch continues with the next priority.
    static let gotoIf = Application(name: "GotoIf", isInstant: true) { execution, data in
        let (condition, branches) = ArgumentSplitter.splitOnce(data, at: "?")
        guard let branches else {
            execution.logger.warning("GotoIf: '\(data)' has no '?'; ignored", metadata: ["location": "\(execution.location)"])
            return .proceed
        }
        let (whenTrue, whenFalse) = ArgumentSplitter.splitOnce(branches, at: ":")
        let target = DialplanExpression.isTrue(condition) ? whenTrue : (whenFalse ?? "")
        if !target.trimmingCharacters(in: .whitespaces).isEmpty {
            try await jump(execution, to: target)
        }
        return .proceed
    }

    /// Parses `[[context,]exten,]priority` and records the jump on the execution.
    static func jump(_ execution: ChannelExecution, to target: String) async throws {
        let parts = ArgumentSplitter.split(target).map { $0.trimmingCharacters(in: .whitespaces) }
        switch parts.count {
        case 1:
            guard !parts[0].isEmpty else { throw DialplanError("Goto requires an argument ([[context,]extension,]priority)") }
            try await execution.jump(priority: parts[0])
        case 2:
            try await execution.jump(exten: parts[0], priority: parts[1])
        case 3:
            try await execution.jump(context: parts[0], exten: parts[1], priority: parts[2])
        default:
            throw DialplanError("Goto target '\(target)' has too many parts (expected [[context,]extension,]priority)")
        }
    }
}
