import Foundation
import Logging
import NIOConcurrencyHelpers
import PBXCore

/// What every manager session shares: the configuration (replaced by a reload), the switch's
/// bus and registries, the login throttle and the switch's start/reload status (FullyBooted,
/// CoreStatus, Reload).
public final class ManagerContext: Sendable {
    public let bus: EventBus
    public let actions: ManagerActionRegistry
    public let commands: CLICommandRegistry
    public let throttle: LoginThrottle
    public let logger: Logger
    /// How long a failed login waits before its reply (Asterisk: 1 s; tests shorten it).
    public let failedLoginDelay: Duration
    public let system: SystemStatus
    /// Originate's engine; nil when the switch has no dialer (tests of the wire alone).
    public let originator: Originator?
    /// Rendered event text shared by the sessions.
    let eventTexts = EventTextCache()
    private let state: NIOLockedValueBox<ManagerConfig>

    public init(config: ManagerConfig, bus: EventBus, actions: ManagerActionRegistry, commands: CLICommandRegistry,
                throttle: LoginThrottle = LoginThrottle(), failedLoginDelay: Duration = .seconds(1),
                system: SystemStatus, originator: Originator? = nil, logger: Logger = Logger(label: "pbxd.ami")) {
        self.bus = bus
        self.actions = actions
        self.commands = commands
        self.throttle = throttle
        self.failedLoginDelay = failedLoginDelay
        self.system = system
        self.originator = originator
        self.logger = logger
        self.state = NIOLockedValueBox(config)
    }

    public var config: ManagerConfig { state.withLockedValue { $0 } }

    /// Adopts a reloaded manager.conf: new logins use it; sessions already logged in keep the
    /// permissions they logged in with, as in Asterisk.
    public func replaceConfig(_ config: ManagerConfig) {
        state.withLockedValue { $0 = config }
    }
}
