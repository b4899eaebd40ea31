import Logging
import PBXCore

/// Where a channel is in the dialplan: `exten@context:priority`.
public struct DialplanLocation: Sendable, Hashable, CustomStringConvertible {
    public var context: String
    public var exten: String
    public var priority: Int
    public init(context: String, exten: String, priority: Int) {
        self.context = context
        self.exten = exten
        self.priority = priority
    }
    public var description: String { "\(exten)@\(context):\(priority)" }
}

/// How far a channel variable is passed to channels it dials (Asterisk's `_`/`__` prefixes).
public enum VariableInheritance: Sendable, Hashable {
    case none
    /// `_VAR`: copied to the dialed channel as `VAR`.
    case once
    /// `__VAR`: copied as `__VAR`, so it keeps going.
    case always
}

/// One channel's dialplan state: its position, channel variables and pending jump — Asterisk's
/// pbx fields and `varshead` on `ast_channel`.
///
/// Owned by the channel's task alone (not `Sendable` on purpose): the executor and the
/// applications it calls run one after another on that task, so nothing here needs a lock.
public final class ChannelExecution {
    public let channel: any CallChannel
    public let executor: DialplanExecutor
    /// The current position; `EXTEN`, `CONTEXT`, `PRIORITY` read it.
    public internal(set) var location: DialplanLocation
    /// Carries `uniqueid` (and the channel name) on every line.
    public var logger: Logger
    /// `HANGUPCAUSE`: set by Dial() from the callee's cause and by Hangup(cause); the cause the
    /// channel is finally hung up with when the dialplan ends.
    public var hangupCause: HangupCause?
    /// Shared with management (`ExecutionRegistry`), which may read and set them mid-call.
    let variables: ChannelVariables
    /// Set by Goto-style applications; the executor continues there instead of priority + 1.
    var pendingJump: DialplanLocation?
    /// This run as management sees it (nil for management's own views of the channel).
    var managed: ManagedExecution?

    /// Reads where a pending redirect (AMI Redirect, BlindTransfer) will send this channel —
    /// for an application that must record it before it returns (Queue's BLINDTRANSFER).
    public var redirectTarget: @Sendable () -> DialplanLocation? {
        let managed = self.managed
        return { managed?.pendingTarget }
    }
    /// Set by `returnedWithoutWaiting()` during the current application.
    var currentApplicationDidNotWait = false
    /// Gosub return addresses and their local variables, innermost last (app_stack's
    /// `gosub_stack` datastore). Kept here rather than on the channel: it only lives as long
    /// as this run of the dialplan.
    var gosubFrames: [GosubFrame] = []
    /// Open `While` loops, innermost last (app_while keeps these as `WHILE_n` variables).
    var whileLoops: [WhileLoop] = []
    /// `LANGUAGE()`: the channel's language for prompts (`sounds/<lang>/`). A property of the
    /// dialplan run for now; it moves to the channel when the IVR's sound lookup needs it there.
    public var language = "en"

    init(channel: any CallChannel, executor: DialplanExecutor, location: DialplanLocation,
         variables: ChannelVariables = ChannelVariables()) {
        self.channel = channel
        self.executor = executor
        self.location = location
        self.variables = variables
        var logger = executor.logger
        logger[metadataKey: "uniqueid"] = .string(channel.uniqueID)
        logger[metadataKey: "channel"] = .string(channel.name)
        self.logger = logger
    }

    public var dialplan: Dialplan { executor.dialplan }

    // MARK: Variables

    /// A channel variable (not builtins, functions or globals: see `value(of:)`).
    public func variable(_ name: String) -> String? {
        variables[Self.stripInheritance(name).name]?.value
    }

    /// Sets a channel variable; a `_` or `__` prefix marks it inheritable and is not part of the
    /// name. Setting an empty value keeps the variable (Asterisk deletes it; reads are the same).
    /// Publishes VarSet with the name as written, as `pbx_builtin_setvar_helper` does.
    public func setVariable(_ name: String, _ value: String) {
        let (bare, inheritance) = Self.stripInheritance(name)
        variables[bare] = (value, inheritance)
        publish { .varSet($0, variable: name, value: value) }
    }

    /// Publishes an event with the channel's block, in order with the channel's own events.
    /// Channels that can't order events (`ChannelEventSource`) get none.
    public func publish(_ make: @escaping @Sendable (ChannelSnapshot) -> ManagerEvent) {
        (channel as? any ChannelEventSource)?.publishEvent(make)
    }

    public func unsetVariable(_ name: String) {
        variables[Self.stripInheritance(name).name] = nil
    }

    /// The variables a dialed channel receives (see `DialRequest.inheritedVariables`).
    public var inheritableVariables: [String: String] {
        var result: [String: String] = [:]
        for (name, entry) in variables.all {
            switch entry.inheritance {
            case .none: continue
            case .once: result[name] = entry.value
            case .always: result["__" + name] = entry.value
            }
        }
        return result
    }

    /// The stored entry of a variable, for saving and restoring Gosub locals.
    func variableEntry(_ name: String) -> (value: String, inheritance: VariableInheritance)? {
        variables[Self.stripInheritance(name).name]
    }

    /// Puts back an entry saved by `variableEntry` (nil: the variable didn't exist).
    func restoreVariableEntry(_ name: String, _ entry: (value: String, inheritance: VariableInheritance)?) {
        variables[Self.stripInheritance(name).name] = entry
    }

    static func stripInheritance(_ name: String) -> (name: String, inheritance: VariableInheritance) {
        if name.hasPrefix("__") { return (String(name.dropFirst(2)), .always) }
        if name.hasPrefix("_") { return (String(name.dropFirst()), .once) }
        return (name, .none)
    }

    // MARK: Caller ID

    /// Read from the channel each time (not cached): the SIP side may update it mid-call.
    public func callerID() async -> (number: String, name: String) {
        (await channel.callerIDNumber, await channel.callerIDName)
    }

    public func setCallerID(number: String, name: String) async {
        await channel.setCallerID(number: number, name: name)
    }

    /// An application that normally waits (Wait, Dial, …) calls this when it returned without
    /// waiting (a bad argument, nothing to dial), so the executor's loop guard still counts it
    /// as instant and a `Wait(${EMPTY})` + `Goto` loop cannot spin forever.
    public func returnedWithoutWaiting() {
        currentApplicationDidNotWait = true
    }

    // MARK: Lookup and substitution

    /// Resolves a name the way `${NAME}` does: functions (`NAME(args)`), builtin variables,
    /// channel variables, then globals.
    public func value(of name: String) async -> String? {
        if let open = name.firstIndex(of: "("), name.hasSuffix(")") {
            let functionName = String(name[..<open])
            let arguments = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
            guard let function = executor.functions[functionName] else {
                logger.warning("Function \(functionName) not registered", metadata: ["location": "\(location)"])
                return nil
            }
            do {
                return try await function.read(self, arguments)
            } catch {
                logger.warning("\(functionName)(\(arguments)) failed: \(error)", metadata: ["location": "\(location)"])
                return nil
            }
        }
        // Builtins are upper case only, as in Asterisk (`${exten}` is an ordinary variable).
        switch name {
        case "EXTEN": return location.exten
        case "CONTEXT": return location.context
        case "PRIORITY": return String(location.priority)
        case "UNIQUEID": return channel.uniqueID
        case "LINKEDID": return channel.linkedID
        case "CHANNEL": return channel.name
        case "HANGUPCAUSE": return String(hangupCause?.rawValue ?? 0)
        case "EPOCH": return String(Int64(executor.clock().timeIntervalSince1970.rounded(.down)))
        default: break
        }
        return variable(name) ?? executor.globals[name]
    }

    /// Expands `${...}` and `$[...]` in `text` (see `Substitution`).
    public func substitute(_ text: String) async -> String {
        let environment = Substitution.Environment(
            lookup: { [self] name in await self.value(of: name) },
            report: { [self] message in self.logger.warning("\(message)", metadata: ["location": "\(self.location)"]) }
        )
        return await Substitution.substitute(text, in: environment)
    }

    /// `Set(name=value)`: writes a function (`CALLERID(name)=...`) or a channel variable.
    public func assign(_ name: String, value: String) async throws {
        let name = name.trimmingCharacters(in: .whitespaces)
        if let open = name.firstIndex(of: "("), name.hasSuffix(")") {
            let functionName = String(name[..<open])
            let arguments = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
            guard let function = executor.functions[functionName] else {
                throw DialplanError("function \(functionName) not registered")
            }
            guard let write = function.write else {
                throw DialplanError("function \(functionName) cannot be written")
            }
            try await write(self, arguments, value)
            return
        }
        setVariable(name, value)
    }

    // MARK: Jumps

    /// Continues at `priority` (a number, `+n`/`-n` relative to the current one, or a label) of
    /// `exten` in `context` (each defaulting to the current one), as `ast_parseable_goto` does.
    /// Throws when a label doesn't exist; a missing numbered priority is found out when the
    /// executor gets there (it then falls off the end, or goes to `i` for an unknown extension).
    public func jump(context: String? = nil, exten: String? = nil, priority: String) async throws(DialplanError) {
        let targetContext = context.flatMap { $0.isEmpty ? nil : $0 } ?? location.context
        let targetExten = exten.flatMap { $0.isEmpty ? nil : $0 } ?? location.exten
        let trimmed = priority.trimmingCharacters(in: .whitespaces)
        let number: Int
        if let value = Int(trimmed), !trimmed.hasPrefix("+"), !trimmed.hasPrefix("-") {
            number = value
        } else if (trimmed.hasPrefix("+") || trimmed.hasPrefix("-")), let delta = Int(trimmed.dropFirst()) {
            number = location.priority + (trimmed.hasPrefix("+") ? delta : -delta)
        } else if let labeled = dialplan.findLabel(context: targetContext, exten: targetExten, label: trimmed,
                                                   callerID: await callerID().number, at: executor.now()) {
            number = labeled
        } else {
            throw DialplanError("priority '\(trimmed)' must be a number > 0 or a label of \(targetExten)@\(targetContext)")
        }
        guard number > 0 else { throw DialplanError("priority \(number) is not > 0") }
        pendingJump = DialplanLocation(context: targetContext, exten: targetExten, priority: number)
    }

    /// Applies a pending jump or steps to the next priority.
    func advance() {
        if let jump = pendingJump {
            location = jump
            pendingJump = nil
        } else {
            location.priority += 1
        }
    }
}

/// A dialplan runtime failure an application reports (it ends the call, as in Asterisk).
public struct DialplanError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
