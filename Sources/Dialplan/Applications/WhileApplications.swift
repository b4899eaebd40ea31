/// An open `While` loop (Asterisk `app_while` keeps the same two addresses in the channel
/// variables `WHILE_n` and `END_WHILE_n`; here they are per-run state, invisible to `${}`).
struct WhileLoop {
    /// The `While` priority; `EndWhile` and `ContinueWhile` jump back to it.
    var start: DialplanLocation
    /// The priority after the matching `EndWhile`, learnt the first time it runs.
    var end: DialplanLocation?
}

/// `While(expr)`, `EndWhile()`, `ExitWhile()`, `ContinueWhile()` (Asterisk `app_while`).
///
/// All four are instant: a `While(1)` loop that never waits meets the executor's loop guard
/// like any Goto cycle.
enum WhileApplications {
    static let all: [Application] = [whileLoop, endWhile, exitWhile, continueWhile]

    /// `While(expr)`: true → enter (or go round again); false → continue after the matching
    /// `EndWhile` (found by scanning the extension's priorities the first time round).
    static let whileLoop = Application(name: "While", isInstant: true) { execution, data in
        let here = execution.location
        let index = execution.whileLoops.lastIndex { $0.start == here }
        if DialplanExpression.isTrue(data) {
            if index == nil { execution.whileLoops.append(WhileLoop(start: here)) }
            return .proceed
        }
        var end: DialplanLocation?
        if let index {
            end = execution.whileLoops[index].end
            // Loops opened inside this one and left by a jump are over too.
            execution.whileLoops.removeSubrange(index...)
        }
        try await leaveLoop(execution, knownEnd: end, appName: "While")
        return .proceed
    }

    /// `EndWhile()`: back to the innermost `While`, remembering where the loop ends.
    static let endWhile = Application(name: "EndWhile", isInstant: true) { execution, _ in
        guard let index = execution.whileLoops.indices.last else {
            execution.logger.warning("EndWhile without While", metadata: ["location": "\(execution.location)"])
            return .proceed
        }
        let here = execution.location
        if execution.whileLoops[index].end == nil {
            execution.whileLoops[index].end = DialplanLocation(context: here.context, exten: here.exten, priority: here.priority + 1)
        }
        execution.pendingJump = execution.whileLoops[index].start
        return .proceed
    }

    /// `ExitWhile()`: leaves the innermost loop, continuing after its `EndWhile`.
    static let exitWhile = Application(name: "ExitWhile", isInstant: true) { execution, _ in
        guard let loop = execution.whileLoops.popLast() else {
            execution.logger.warning("ExitWhile outside a While loop", metadata: ["location": "\(execution.location)"])
            return .proceed
        }
        try await leaveLoop(execution, knownEnd: loop.end, appName: "ExitWhile")
        return .proceed
    }

    /// `ContinueWhile()`: back to the innermost `While`, which tests its condition again.
    static let continueWhile = Application(name: "ContinueWhile", isInstant: true) { execution, _ in
        guard let loop = execution.whileLoops.last else {
            execution.logger.warning("ContinueWhile outside a While loop", metadata: ["location": "\(execution.location)"])
            return .proceed
        }
        execution.pendingJump = loop.start
        return .proceed
    }

    /// Continues after the loop's `EndWhile`: the remembered address, else the one found by
    /// `matchingEndWhile`; without either, warns and goes on with the next priority.
    private static func leaveLoop(_ execution: ChannelExecution, knownEnd: DialplanLocation?, appName: String) async throws {
        if let knownEnd {
            execution.pendingJump = knownEnd
            return
        }
        let here = execution.location
        if let endWhile = await matchingEndWhile(execution) {
            execution.pendingJump = DialplanLocation(context: here.context, exten: here.exten, priority: endWhile + 1)
        } else {
            execution.logger.warning("Couldn't find matching EndWhile? (\(appName) at \(here))", metadata: ["location": "\(here)"])
        }
    }

    /// The priority of the `EndWhile` closing the loop the channel is in: the priorities after
    /// the current one are read in order (until one is missing), counting nested `While`s,
    /// as app_while's `find_matching_endwhile` does.
    static func matchingEndWhile(_ execution: ChannelExecution) async -> Int? {
        let here = execution.location
        let callerID = await execution.callerID().number
        let time = execution.executor.now()
        var level = 1
        var priority = here.priority + 1
        while let step = execution.dialplan.findPriority(context: here.context, exten: here.exten, priority: priority,
                                                         callerID: callerID, at: time) {
            switch step.application.lowercased() {
            case "while": level += 1
            case "endwhile": level -= 1
            default: break
            }
            if level == 0 { return priority }
            priority += 1
        }
        return nil
    }
}
