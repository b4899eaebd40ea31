import Foundation

/// `Goto`, `GotoIf`, `GotoIfTime` and `ExecIf` (Asterisk `pbx_builtin_goto`,
/// `pbx_builtin_gotoif`, `pbx_builtin_gotoiftime`, `app_exec`'s `ExecIf`).
enum GotoApplications {
    static let all: [Application] = [goto, gotoIf, gotoIfTime, execIf]

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

    /// `GotoIfTime(times,weekdays,mdays,months[,timezone]?[labeliftrue][:labeliffalse])`: the
    /// business-hours switch, with the time spec of time-conditional includes.
    static let gotoIfTime = Application(name: "GotoIfTime", isInstant: true) { execution, data in
        let (spec, branches) = ArgumentSplitter.splitOnce(data, at: "?")
        guard let branches else {
            throw DialplanError("GotoIfTime requires times,weekdays,mdays,months[,timezone]?labeliftrue[:labeliffalse]")
        }
        let inRange = try timeMatches(spec, execution: execution)
        let (whenTrue, whenFalse) = ArgumentSplitter.splitOnce(branches, at: ":")
        let target = inRange ? whenTrue : (whenFalse ?? "")
        if !target.trimmingCharacters(in: .whitespaces).isEmpty {
            try await jump(execution, to: target)
        }
        return .proceed
    }

    /// Whether now falls in `times,weekdays,mdays,months[,timezone]`.
    static func timeMatches(_ spec: String, execution: ChannelExecution) throws -> Bool {
        let fields = spec.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count <= 5 else { throw DialplanError("time spec '\(spec)' has too many fields") }
        let timing = try DialplanTiming(fields: Array(fields.prefix(4)))
        var zone = execution.executor.timeZone
        if fields.count == 5, !fields[4].isEmpty {
            guard let named = TimeZone(identifier: fields[4]) else { throw DialplanError("unknown time zone '\(fields[4])'") }
            zone = named
        }
        return timing.contains(DialplanClockTime(execution.executor.clock(), timeZone: zone))
    }

    /// `ExecIf(expression?app(args)[:app(args)])`: runs one application on a condition and
    /// returns what it returns (its hangup ends the call as usual).
    static let execIf = Application(name: "ExecIf") { execution, data in
        let (condition, branches) = ArgumentSplitter.splitOnce(data, at: "?")
        guard let branches else { throw DialplanError("ExecIf requires expression?app(args)[:app(args)]") }
        let (whenTrue, whenFalse) = ArgumentSplitter.splitOnce(branches, at: ":")
        let chosen = (DialplanExpression.isTrue(condition) ? whenTrue : (whenFalse ?? "")).trimmingCharacters(in: .whitespaces)
        guard !chosen.isEmpty else {
            execution.returnedWithoutWaiting()
            return .proceed
        }
        var name = chosen
        var arguments = ""
        if let open = chosen.firstIndex(of: "(") {
            name = chosen[..<open].trimmingCharacters(in: .whitespaces)
            let rest = chosen[chosen.index(after: open)...]
            arguments = String(rest.hasSuffix(")") ? rest.dropLast() : rest)
        }
        guard let application = execution.executor.applications[name] else {
            throw DialplanError("ExecIf: no application '\(name)'")
        }
        if application.isInstant { execution.returnedWithoutWaiting() }
        return try await application.body(execution, arguments)
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
