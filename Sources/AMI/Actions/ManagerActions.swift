import Dialplan
import PBXCore

/// What the manager's own actions read from the switch; pbxd fills it in.
public struct ManagerEnvironment: Sendable {
    public var dialplan: Dialplan
    public var globals: GlobalVariables
    public var astDB: any AstDB
    public var peers: SIPPeerDirectory
    /// Live channels (CoreShowChannels, Status, Hangup…) and their dialplan runs (Getvar,
    /// Setvar, Redirect).
    public var channels: ChannelRegistry
    public var executions: ExecutionRegistry
    public var reloadableModules: [ReloadableModule]

    public init(dialplan: Dialplan, globals: GlobalVariables, astDB: any AstDB, peers: SIPPeerDirectory, channels: ChannelRegistry,
                executions: ExecutionRegistry, reloadableModules: [ReloadableModule]) {
        self.dialplan = dialplan
        self.globals = globals
        self.astDB = astDB
        self.peers = peers
        self.channels = channels
        self.executions = executions
        self.reloadableModules = reloadableModules
    }
}

/// Registers the actions (and `manager show …` console commands) the AMI target itself implements (the session-bound ones — Login,
/// Events, Filter, Command, ListCommands… — are answered by the session).
public enum ManagerActions {
    public static func register(into registry: ManagerActionRegistry, context: ManagerContext, environment: ManagerEnvironment) {
        CoreActions.register(into: registry, context: context, channels: environment.channels, executions: environment.executions,
                             modules: environment.reloadableModules)
        DatabaseActions.register(into: registry, astDB: environment.astDB)
        ChannelActions(channels: environment.channels, executions: environment.executions, globals: environment.globals, bus: context.bus)
            .register(into: registry)
        SIPPeerActions.register(into: registry, directory: environment.peers)
        ExtensionStateAction.register(into: registry, dialplan: environment.dialplan, peers: environment.peers)
        HintMonitor(dialplan: environment.dialplan, peers: environment.peers, bus: context.bus).start()
        ManagerCLICommands.register(into: context.commands, context: context)
    }
}

/// ListCommands' synopses for actions pbxd implements (Asterisk's wording); others show their name.
let actionSynopses: [String: String] = [
    "Ping": "Keepalive command.",
    "CoreSettings": "Show PBX core settings (version etc).",
    "CoreStatus": "Show PBX core status variables.",
    "UserEvent": "Send an arbitrary event.",
    "Reload": "Send a reload event.",
    "DBGet": "Get DB Entry.",
    "DBPut": "Put DB entry.",
    "DBDel": "Delete DB entry.",
    "Getvar": "Gets a channel variable or function value.",
    "Setvar": "Sets a channel variable or function value.",
    "SIPpeers": "List SIP peers (text format).",
    "SIPshowpeer": "show SIP peer (text format).",
    "ExtensionState": "Check Extension Status.",
    "ExtensionStateList": "List the current known extension states.",
    "CoreShowChannels": "List currently active channels.",
    "Status": "List channel status.",
    "Hangup": "Hangup channel.",
    "Redirect": "Redirect (transfer) a call.",
    "AbsoluteTimeout": "Set absolute timeout.",
]
