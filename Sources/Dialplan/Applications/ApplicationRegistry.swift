import PBXCore

/// What the executor does after an application returns.
public enum ApplicationResult: Sendable, Hashable {
    /// Go on with the next priority (or where a Goto pointed).
    case proceed
    /// Stop the dialplan and hang the channel up — with this cause, or the channel's
    /// `hangupCause`, or normal clearing (Asterisk: the application returned -1).
    case hangup(HangupCause?)
}

/// A dialplan application (`Dial`, `Answer`, …): an `async throws` function run on the
/// channel's task with its execution state and its argument string, already substituted.
/// A thrown error ends the call, as an application returning -1 does in Asterisk.
public struct Application: Sendable {
    public typealias Body = @Sendable (_ execution: ChannelExecution, _ data: String) async throws -> ApplicationResult

    public var name: String
    /// True for applications that never wait on the channel or the network (NoOp, Set, Goto…).
    /// The executor counts consecutive instant priorities to stop dialplan loops that would
    /// otherwise spin a core forever (`DialplanExecutor.maxInstantPriorities`). An application
    /// that usually waits but didn't this time calls `ChannelExecution.returnedWithoutWaiting()`.
    public var isInstant: Bool
    public var body: Body

    public init(name: String, isInstant: Bool = false, body: @escaping Body) {
        self.name = name
        self.isInstant = isInstant
        self.body = body
    }
}

/// Applications by case-insensitive name. IVR and ACD register theirs into a copy of
/// `.standard` before pbxd creates the executor.
public struct ApplicationRegistry: Sendable {
    private var applications: [String: Application] = [:]

    public init() {}

    public mutating func register(_ application: Application) {
        applications[application.name.lowercased()] = application
    }

    public subscript(name: String) -> Application? {
        applications[name.lowercased()]
    }

    public var names: [String] { applications.values.map(\.name).sorted() }

    /// Answer, Hangup, Wait, NoOp, Set, MSet, Busy, Congestion, Ringing, Progress, Goto,
    /// GotoIf, GotoIfTime, ExecIf, Gosub, GosubIf, Return, StackPop, While, EndWhile,
    /// ExitWhile, ContinueWhile, Dial, Verbose, Log.
    public static var standard: ApplicationRegistry {
        var registry = ApplicationRegistry()
        let all = StandardApplications.all + GotoApplications.all + SubroutineApplications.all + WhileApplications.all
        for application in all + [DialApplication.application] {
            registry.register(application)
        }
        return registry
    }
}
