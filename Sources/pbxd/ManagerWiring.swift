import AMI
import Dialplan
import Foundation
import Logging
import NIOCore
import PBXCore
import SIPStack

/// Starts the manager port (manager.conf `enabled=yes`) with its own actions registered and
/// the switch's state behind them.
struct ManagerWiring {
    let server: AMIServer

    /// Everything the manager reads from the running switch.
    struct Switch {
        var configuration: LoadedConfiguration
        var bus: EventBus
        var actions: ManagerActionRegistry
        var commands: CLICommandRegistry
        var executor: DialplanExecutor
        var signallingLoop: any EventLoop
        var registrar: RegistrarService
        var qualify: QualifyService
        var driver: SIPChannelDriver
        var system: SystemStatus
        var channels: ChannelRegistry
        var executions: ExecutionRegistry
    }

    static func start(_ pbx: Switch, group: any EventLoopGroup, logger: Logger) -> ManagerWiring? {
        let config = pbx.configuration.manager
        guard config.enabled else { return nil }
        let originator = Originator(dialer: pbx.executor.dialer, executor: pbx.executor, bus: pbx.bus,
                                    logger: Logger(label: "pbxd.ami.originate"))
        let context = ManagerContext(config: config, bus: pbx.bus, actions: pbx.actions, commands: pbx.commands,
                                     system: pbx.system, originator: originator, logger: Logger(label: "pbxd.ami"))
        let loop = pbx.signallingLoop
        let registrar = pbx.registrar, qualify = pbx.qualify
        let peers = SIPPeerDirectory(
            peers: pbx.configuration.sip.peers,
            registration: { name in
                let now = Date()
                let binding = try? await loop.submit {
                    registrar.allBindings.last { $0.aor == name && $0.expiresAt > now }
                }.get()
                return binding.map {
                    PeerRegistration(host: $0.source.host, port: $0.source.port, contact: $0.contact.description,
                                     userAgent: $0.userAgent, expiresAt: $0.expiresAt)
                }
            },
            reachability: { name in (try? await loop.submit { qualify.reachability(of: name) }.get()) ?? .unknown },
            deviceState: { [driver = pbx.driver] name in
                (try? await driver.eventLoop.submit { driver.deviceState(ofPeer: name) }.get()) ?? .unknown
            })
        let managerConf = (pbx.configuration.configDirectory as NSString).appendingPathComponent("manager.conf")
        let reloadManager = ReloadableModule(name: "manager") {
            do throws(ConfigError) {
                let reloaded = try ManagerConfig.load(path: managerConf)
                for warning in reloaded.warnings { logger.warning("\(warning)") }
                context.replaceConfig(reloaded)
                return nil
            } catch {
                return error.description
            }
        }
        let environment = ManagerEnvironment(
            dialplan: pbx.configuration.dialplan, globals: pbx.executor.globals, astDB: pbx.executor.astDB, peers: peers,
            channels: pbx.channels, executions: pbx.executions, reloadableModules: [reloadManager])
        ManagerActions.register(into: pbx.actions, context: context, environment: environment)
        let server = AMIServer(context: context, group: group)
        Task {
            do {
                try await server.run(host: config.bindAddress, port: config.port)
            } catch {
                logger.critical("manager interface stopped", metadata: ["error": "\(error)"])
            }
        }
        return ManagerWiring(server: server)
    }

    func stop() {
        server.stop()
    }

    /// Ends the client sessions (after the Shutdown event went out).
    func closeSessions() async {
        await server.closeSessions()
    }
}
