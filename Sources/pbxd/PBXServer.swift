import AMI
import Dialplan
import IVR
import Foundation
import Logging
import NIOCore
import NIOPosix
import PBXCore
import RTPMedia
import SIPStack

/// The running switch: loads the configuration, wires the layers together (DESIGN.md §1–2),
/// serves until SIGTERM/SIGINT, then ends calls, saves state and closes sockets.
final class PBXServer {
    let configuration: LoadedConfiguration
    let configDirectory: String
    let logger: Logger

    private init(configuration: LoadedConfiguration, configDirectory: String, logger: Logger) {
        self.configuration = configuration
        self.configDirectory = configDirectory
        self.logger = logger
    }

    /// Reads every config file; any error stops start-up with its file:line.
    static func load(configDirectory: String, dataDirectory: String?, logger: Logger) throws(StartupError) -> PBXServer {
        let configuration = try LoadedConfiguration.load(directory: configDirectory, dataDirectoryOverride: dataDirectory)
        for warning in configuration.warnings { logger.warning("\(warning)") }
        return PBXServer(configuration: configuration, configDirectory: configDirectory, logger: logger)
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let signallingLoop = group.next()
        let sip = configuration.sip
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)

        let transport = SIPTransportLayer(eventLoop: signallingLoop, logger: Logger(label: "pbxd.sip.transport"))
        let portPool = try RTPPortPool(range: configuration.rtp.portStart...configuration.rtp.portEnd)
        let relay = RTPRelay(group: group, portPool: portPool, bindHost: sip.general.udpBind.host)
        let sounds = SoundLibrary(searchPath: SoundLibrary.defaultSearchPath(bundledSounds: configuration.soundsDirectory))
        let media = MediaEngine(relay: relay, signallingLoop: signallingLoop, sounds: sounds, logger: Logger(label: "pbxd.media"))
        // The event bus, and the manager actions and console commands subsystems register.
        let events = EventBus()
        let managerActions = ManagerActionRegistry()
        let consoleCommands = CLICommandRegistry()
        let registrar = RegistrarService(
            eventLoop: signallingLoop, policy: sip.general.registrar, dataDirectory: configuration.dataDirectory,
            logger: Logger(label: "pbxd.sip.registrar"))
        let driver = SIPChannelDriver(
            eventLoop: signallingLoop, transport: transport, config: sip, media: media, registrar: registrar,
            logger: Logger(label: "pbxd.sip"))
        // DB() values survive restarts in <datadir>/astdb.json; a corrupt file stops start-up
        // rather than being silently replaced.
        let astDB = try JSONFileAstDB(directory: URL(fileURLWithPath: configuration.dataDirectory))
        // The IVR's media applications (Playback, Background, WaitExten, Read, Say*, Record,
        // Echo, Milliwatt, MusicOnHold, SendDTMF) and its TIMEOUT() function join the standard
        // ones. Record's relative names go under <datadir>/recordings.
        var applications = ApplicationRegistry.standard
        let mediaSettings = MediaApplicationSettings(
            recordingsDirectory: (configuration.dataDirectory as NSString).appendingPathComponent("recordings"),
            musicOnHold: configuration.musicOnHold)
        IVRApplications.register(into: &applications, settings: mediaSettings)
        var functions = FunctionRegistry.standard
        IVRApplications.register(into: &functions)
        let executor = DialplanExecutor(
            dialplan: configuration.dialplan, dialer: SIPDialer(driver: driver), applications: applications,
            functions: functions, astDB: astDB,
            logger: Logger(label: "pbxd.dialplan"))
        driver.routeExists = { context, exten in executor.hasExtension(context: context, exten: exten, callerID: nil) }
        driver.startCall = { channel, context, exten in
            Task { await executor.run(channel: channel, context: context, exten: exten) }
        }
        let qualify = QualifyService(driver: driver, peers: sip.peers, logger: Logger(label: "pbxd.sip.qualify"))
        driver.reachability = { qualify.reachability(of: $0) }

        try await transport.start(
            udp: try SocketAddress.makeAddressResolvingHost(sip.general.udpBind.host, port: sip.general.udpBind.port),
            tcp: sip.general.tcpEnabled
                ? try SocketAddress.makeAddressResolvingHost(sip.general.tcpBind.host, port: sip.general.tcpBind.port) : nil)
        try await signallingLoop.submit {
            registrar.start()
            qualify.start()
        }.get()
        let manager = ManagerWiring.start(
            ManagerWiring.Switch(
                configDirectory: configDirectory, configuration: configuration, bus: events, actions: managerActions,
                commands: consoleCommands, executor: executor, signallingLoop: signallingLoop, registrar: registrar,
                qualify: qualify, driver: driver),
            group: group, logger: logger)
        logger.info("pbxd \(PBXDCommand.version) ready",
            metadata: ["sip": "\(sip.general.udpBind)", "tcp": "\(sip.general.tcpEnabled ? sip.general.tcpBind.description : "off")",
                "rtp": "\(configuration.rtp.portStart)-\(configuration.rtp.portEnd)", "peers": "\(sip.peers.count)"])

        let signal = await SignalWaiter.waitForTermination()
        logger.notice("shutting down", metadata: ["signal": "\(signal)"])
        manager?.stop()
        await driver.shutdown()
        try? await signallingLoop.submit {
            qualify.stop()
            registrar.stop()
        }.get()
        registrar.flush()
        await transport.shutdown()
        try await group.shutdownGracefully()
        logger.notice("stopped")
    }
}
