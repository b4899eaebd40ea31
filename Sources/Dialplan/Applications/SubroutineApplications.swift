/// One Gosub call on a channel's stack (a frame of Asterisk `app_stack`'s `gosub_stack`).
struct GosubFrame {
    /// Where `Return` continues: the priority after the Gosub.
    var returnLocation: DialplanLocation
    /// The `ARGn` count of this call; a nested Gosub with fewer arguments blanks the extra
    /// `ARGn` so a subroutine never sees its caller's arguments.
    var argumentCount: Int
    /// Local variables (`ARGn`, `ARGC`, `LOCAL(x)`) and the value each had before the call
    /// (nil: it didn't exist), restored when the frame is popped.
    var savedVariables: [String: (value: String, inheritance: VariableInheritance)?] = [:]
}

extension ChannelExecution {
    /// The deepest Gosub nesting allowed. Asterisk has no limit; a recursion that waits
    /// between calls would otherwise grow the stack for as long as the call lasts.
    static let maxGosubDepth = 1_000

    /// Sets a variable local to the innermost Gosub (`LOCAL(name)=value`, the `ARGn`):
    /// its current value is saved on the first write and comes back at `Return`.
    func setLocalVariable(_ name: String, _ value: String) throws {
        guard !gosubFrames.isEmpty else {
            throw DialplanError("tried to set LOCAL(\(name)), but we aren't within a Gosub routine")
        }
        let bare = Self.stripInheritance(name).name
        let index = gosubFrames.count - 1
        if gosubFrames[index].savedVariables.index(forKey: bare) == nil {
            gosubFrames[index].savedVariables[bare] = .some(variableEntry(bare))
        }
        setVariable(bare, value)
    }

    /// Pops the innermost frame and restores the variables it shadowed.
    func popGosubFrame() -> GosubFrame? {
        guard let frame = gosubFrames.popLast() else { return nil }
        for (name, entry) in frame.savedVariables { restoreVariableEntry(name, entry) }
        return frame
    }

    /// Gosub to `target` (`[[context,]exten,]priority`) with `arguments`: pushes the return
    /// address, sets `ARG1`…`ARGn` and `ARGC` as locals and jumps. A destination that doesn't
    /// exist fails the application (Asterisk logs it and hangs up).
    func gosub(to target: String, arguments: [String]) async throws {
        guard gosubFrames.count < Self.maxGosubDepth else {
            throw DialplanError("Gosub nested deeper than \(Self.maxGosubDepth) levels")
        }
        let returnLocation = DialplanLocation(context: location.context, exten: location.exten, priority: location.priority + 1)
        try await GotoApplications.jump(self, to: target)
        guard let destination = pendingJump,
              dialplan.findPriority(context: destination.context, exten: destination.exten, priority: destination.priority,
                                    callerID: await callerID().number, at: executor.now()) != nil else {
            let attempted = pendingJump?.description ?? target
            pendingJump = nil
            throw DialplanError("Attempt to reach a non-existent destination for Gosub: \(attempted)")
        }
        let callerArgumentCount = gosubFrames.last?.argumentCount ?? 0
        gosubFrames.append(GosubFrame(returnLocation: returnLocation, argumentCount: arguments.count))
        try setLocalVariable("ARGC", String(arguments.count))
        for (index, argument) in arguments.enumerated() {
            try setLocalVariable("ARG\(index + 1)", argument)
        }
        if callerArgumentCount > arguments.count {
            for index in (arguments.count + 1)...callerArgumentCount {
                try setLocalVariable("ARG\(index)", "")
            }
        }
    }
}

/// `Gosub`, `GosubIf`, `Return`, `StackPop` and the `LOCAL()` function (Asterisk `app_stack`).
enum SubroutineApplications {
    static let all: [Application] = [gosub, gosubIf, returnFromGosub, stackPop]

    /// `Gosub([[context,]exten,]priority[(arg1[,...][,argN])])`.
    static let gosub = Application(name: "Gosub", isInstant: true) { execution, data in
        guard !data.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DialplanError("Gosub requires an argument: Gosub([[context,]exten,]priority[(arg1[,...][,argN])])")
        }
        let (target, arguments) = splitTarget(data, logger: execution)
        try await execution.gosub(to: target, arguments: arguments)
        return .proceed
    }

    /// `GosubIf(condition?destination_if_true[(args)][:destination_if_false[(args)]])`; an
    /// empty branch continues with the next priority.
    static let gosubIf = Application(name: "GosubIf", isInstant: true) { execution, data in
        let (condition, branches) = ArgumentSplitter.splitOnce(data, at: "?")
        guard let branches else {
            throw DialplanError("GosubIf requires an argument: GosubIf(cond?label1(args):label2(args))")
        }
        let (whenTrue, whenFalse) = ArgumentSplitter.splitOnce(branches, at: ":")
        let chosen = DialplanExpression.isTrue(condition) ? whenTrue : (whenFalse ?? "")
        guard !chosen.trimmingCharacters(in: .whitespaces).isEmpty else { return .proceed }
        let (target, arguments) = splitTarget(chosen, logger: execution)
        try await execution.gosub(to: target, arguments: arguments)
        return .proceed
    }

    /// `Return([value])`: pops the innermost Gosub, restores its locals, sets `GOSUB_RETVAL`
    /// and continues after the Gosub. Without a Gosub, the call ends (Asterisk returns -1).
    static let returnFromGosub = Application(name: "Return", isInstant: true) { execution, data in
        guard let frame = execution.popGosubFrame() else {
            execution.logger.error("Return without Gosub: stack is empty", metadata: ["location": "\(execution.location)"])
            return .hangup(nil)
        }
        execution.setVariable("GOSUB_RETVAL", data)
        execution.pendingJump = frame.returnLocation
        return .proceed
    }

    /// `StackPop()`: forgets the innermost return address (and its locals) without jumping.
    static let stackPop = Application(name: "StackPop", isInstant: true) { execution, _ in
        if execution.popGosubFrame() == nil {
            execution.logger.warning("StackPop: the Gosub stack is empty", metadata: ["location": "\(execution.location)"])
        }
        return .proceed
    }

    /// Splits `label(arg1,arg2)` into the Goto target and the arguments, as app_stack does:
    /// everything before the first `(`, and the text up to the last `)` split at commas with
    /// quotes kept (`AST_STANDARD_RAW_ARGS`); `label()` has no arguments.
    static func splitTarget(_ text: String, logger execution: ChannelExecution) -> (target: String, arguments: [String]) {
        guard let open = text.firstIndex(of: "(") else { return (text, []) }
        let target = String(text[..<open])
        var inside = text[text.index(after: open)...]
        if let close = inside.lastIndex(of: ")") {
            inside = inside[..<close]
        } else {
            execution.logger.warning("Gosub: no closing parenthesis in '\(text)'", metadata: ["location": "\(execution.location)"])
        }
        guard !inside.isEmpty else { return (target, []) }
        return (target, ArgumentSplitter.split(String(inside), removingQuotes: false))
    }

    /// `LOCAL(name)`: reads like any variable; writes a variable that `Return` restores.
    static let local = DialplanFunction(
        name: "LOCAL",
        read: { execution, arguments in execution.variable(arguments.trimmingCharacters(in: .whitespaces)) ?? "" },
        write: { execution, arguments, value in try execution.setLocalVariable(arguments.trimmingCharacters(in: .whitespaces), value) }
    )
}
