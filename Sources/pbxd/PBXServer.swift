import AMI
import ACD
import AGI
import CDRBackends
import Dialplan
import IVR
import Foundation
import HTTPServer
import Logging
import NIOCore
import NIOPosix
import PBXCore
import RTPMedia
import SIPStack
import Storage
import Webhooks

/// The running switch: loads the configuration, wires the layers together (DESIGN.md §1–2),
/// serves until SIGTERM/SIGINT, then ends calls, saves state and closes sockets.
final class PBXServer {
    let configuration: LoadedConfiguration
    let logger: Logger

    private init(configuration: LoadedConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Reads every config file; any error stops start-up with its file:line.
    static func load(configDirectory: String, dataDirectory: String?, logger: Logger) throws(StartupError) -> PBXServer {
        let configuration = try LoadedConfiguration.load(directory: configDirectory, dataDirectoryOverride: dataDirectory)
        for warning in configuration.warnings { logger.warning("\(warning)") }
        return PBXServer(configuration: configuration, logger: logger)
    }

    /// call.ended's `recording_url` from the HTTP port's signer.
    private static func linkMaker(_ signer: RecordingLinkSigner) -> CallEventMapper.RecordingLink {
        { file in signer.link(toFile: file) }
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
        // One event bus for the whole switch; the channel and dialplan-run registries that
        // management (AMI, console) reads; FullyBooted/Shutdown/Reload.
        let events = EventBus()
        let system = SystemStatus(events: events)
        let channels = ChannelRegistry(events: events)
        let executions = ExecutionRegistry()
        // CDRs: <datadir>/pbxd.sqlite (+ CSV, PostgreSQL, AMI Cdr per cdr*.conf), fed by the bus.
        let storage = try Storage(directory: configuration.dataDirectory)
        let cdr = try CDRService(config: configuration.cdr, storage: storage, dataDirectory: configuration.dataDirectory, bus: events)
        let cdrTask = Task { await cdr.run() }
        let registrar = RegistrarService(
            eventLoop: signallingLoop, policy: sip.general.registrar, dataDirectory: configuration.dataDirectory,
            events: events, logger: Logger(label: "pbxd.sip.registrar"))
        let driver = SIPChannelDriver(
            eventLoop: signallingLoop, transport: transport, config: sip, media: media, registrar: registrar,
            events: events, channels: channels, logger: Logger(label: "pbxd.sip"))
        driver.musicOnHold = configuration.musicOnHold
        // DB() values survive restarts in pbxd.sqlite's astdb table; an astdb.json left by an
        // older pbxd is imported once (a corrupt one stops start-up rather than being lost).
        let astDB = try AstDBStore(storage: storage)
        if let imported = try astDB.importLegacyFile(directory: configuration.dataDirectory) {
            logger.notice("imported astdb.json into pbxd.sqlite", metadata: ["keys": "\(imported)"])
        }
        // The IVR's media applications (Playback, Background, WaitExten, Read, Say*, Record,
        // Echo, Milliwatt, MusicOnHold, SendDTMF) and its TIMEOUT() function join the standard
        // ones. Record's relative names go under <datadir>/recordings.
        var applications = ApplicationRegistry.standard
        let mediaSettings = MediaApplicationSettings(
            recordingsDirectory: (configuration.dataDirectory as NSString).appendingPathComponent("recordings"),
            musicOnHold: configuration.musicOnHold)
        IVRApplications.register(into: &applications, settings: mediaSettings)
        // MixMonitor/StopMixMonitor: recordings under <datadir>/recordings/YYYY/MM/DD, named in
        // the CDR's recordingfile.
        MixMonitorApplications.register(
            into: &applications, recordingsDirectory: mediaSettings.recordingsDirectory, cdrVariables: cdr.variables)
        // AGI(): FastAGI servers and local scripts (<datadir>/agi-bin unless pbxd.conf agidir=).
        AGIApplication.register(
            into: &applications,
            settings: AGISettings(
                group: group,
                agiDirectory: configuration.pbxd.agiDirectory
                    ?? (configuration.dataDirectory as NSString).appendingPathComponent("agi-bin"),
                recordingsDirectory: mediaSettings.recordingsDirectory, sounds: sounds, version: PBXDCommand.version,
                events: events))
        var functions = FunctionRegistry.standard
        IVRApplications.register(into: &functions)
        // The ACD: queues.conf, queue_log and queues.json in the data dir, device states of
        // the SIP peers from the event bus.
        let managerActions = ManagerActionRegistry()
        let commands = CLICommandRegistry()
        let queueLogFile = try QueueLogFile(path: (configuration.dataDirectory as NSString).appendingPathComponent("queue_log"))
        // Every queue_log line also goes to pbxd.sqlite's queue_log table (realtime columns).
        let queueLogTable = try QueueLogTable(storage: storage)
        let queueLog = QueueLogSinks([queueLogFile, queueLogTable])
        let queueState = QueueStateStore(directory: configuration.dataDirectory)
        let queueEngine = QueueEngine(config: configuration.queues, bus: events, queueLog: queueLog, store: queueState)
        ACD.register(
            engine: queueEngine, musicOnHold: configuration.musicOnHold, queueLog: queueLog, applications: &applications,
            functions: &functions, managerActions: managerActions, commands: commands,
            reloadConfig: { [directory = configuration.configDirectory] () throws(ConfigError) in try QueuesConfig.load(directory: directory) })
        functions.register(CDRFunction.make(store: cdr.variables))
        // AMI MixMonitor/StopMixMonitor find their channel in the live-channel registry and name
        // the file in the CDR as the application does.
        MixMonitorManagerActions.register(
            into: managerActions, recordingsDirectory: mediaSettings.recordingsDirectory,
            lookup: { name in channels.channel(named: name) as? any CallRecording }, cdrVariables: cdr.variables)
        let executor = DialplanExecutor(
            dialplan: configuration.dialplan, dialer: SIPDialer(driver: driver), applications: applications,
            functions: functions, astDB: astDB,
            logger: Logger(label: "pbxd.dialplan"), events: events, channels: channels, executions: executions)
        // `dialplan reload` swaps the executor new calls get; running calls keep theirs.
        let liveDialplan = LiveDialplan(
            executor: executor, path: (configuration.configDirectory as NSString).appendingPathComponent("extensions.conf"))
        // In-call features (Dial/Queue t, T, h, H): features.conf codes, transfers into the dialplan.
        driver.features = configuration.features
        driver.blindTransferRouting = DialplanTransferRouting(dialplan: liveDialplan, executions: executions)
        // AMI Redirect/BlindTransfer of a dialed leg and Atxfer start runs on the live dialplan.
        executions.startRuns { liveDialplan.executor }
        driver.routeExists = { context, exten in liveDialplan.executor.hasExtension(context: context, exten: exten, callerID: nil) }
        driver.startCall = { channel, context, exten in
            Task { await liveDialplan.executor.run(channel: channel, context: context, exten: exten, variables: channel.dialplanVariables) }
        }
        // Signed links to recordings, when pbxd.conf [http] serves them (and has a secret).
        let http = configuration.http
        let recordingLinks = http.enabled ? http.secret.map {
            RecordingLinkSigner(
                secret: $0, recordingsDirectory: mediaSettings.recordingsDirectory, base: http.linkBase, ttlSeconds: http.linkTTLSeconds)
        } : nil
        // CRM webhooks: each [webhook NAME] of pbxd.conf gets the bus's events through its
        // outbox in pbxd.sqlite (the durable queue webhook:NAME); call.ended carries its recording's link.
        let webhooks = try WebhookService(
            configs: configuration.webhooks, storage: storage, group: group, recordingLink: recordingLinks.map(Self.linkMaker))
        let webhookTask = configuration.webhooks.isEmpty ? nil : Task { await webhooks.run(bus: events) }
        let qualify = QualifyService(driver: driver, peers: sip.peers, logger: Logger(label: "pbxd.sip.qualify"))
        driver.reachability = { qualify.reachability(of: $0) }
        await queueEngine.seedDeviceStates(await driver.currentDeviceStates())
        let deviceStates = ACD.followEvents(on: events, engine: queueEngine)
        driver.publishDeviceStates(on: events)
        // Registrations and qualify results change device states at once (keeping any
        // callback already set).
        let registrationChanged = registrar.onChange
        registrar.onChange = { peer, registered in
            registrationChanged?(peer, registered)
            driver.refreshDeviceState(peer: peer)
        }
        let reachabilityChanged = qualify.onChange
        qualify.onChange = { peer, reachability in
            reachabilityChanged?(peer, reachability)
            driver.refreshDeviceState(peer: peer)
        }

        // Console commands for `pbxd -rx` (the control socket) and SIGHUP.
        let consoleLogger = Logger(label: "pbxd.console")
        liveDialplan.registerCommands(into: commands, logger: consoleLogger)
        CoreCommands.register(into: commands, dialplan: liveDialplan, driver: driver, logger: consoleLogger)
        SIPPeerCommands.register(into: commands, peers: sip.peers, registrar: registrar, qualify: qualify, eventLoop: signallingLoop)
        let controlSocket = try await ControlSocket.start(
            dataDirectory: configuration.dataDirectory, registry: commands, group: group, logger: consoleLogger)
        ReloadSignal.install {
            consoleLogger.notice("SIGHUP: reloading")
            Task { _ = await commands.run("reload") }
        }

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
                configuration: configuration, bus: events, actions: managerActions,
                commands: commands, executor: executor, signallingLoop: signallingLoop, registrar: registrar,
                qualify: qualify, driver: driver, system: system, channels: channels, executions: executions),
            group: group, logger: logger)
        logger.info("pbxd \(PBXDCommand.version) ready",
            metadata: ["sip": "\(sip.general.udpBind)", "tcp": "\(sip.general.tcpEnabled ? sip.general.tcpBind.description : "off")",
                "rtp": "\(configuration.rtp.portStart)-\(configuration.rtp.portEnd)", "peers": "\(sip.peers.count)"])

        // pbxd.conf [http]: /health and the recordings behind the webhooks' links.
        let httpListener = http.enabled
            ? try await HTTPListener.start(
                host: http.bindAddress, port: http.port, recordingsDirectory: mediaSettings.recordingsDirectory,
                signer: recordingLinks, group: group)
            : nil

        system.announceBooted()

        let signal = await SignalWaiter.waitForTermination()
        logger.notice("shutting down", metadata: ["signal": "\(signal)"])
        manager?.stop()
        await controlSocket.stop()
        await httpListener?.stop()
        await driver.shutdown()
        webhookTask?.cancel()
        // After the calls' Hangup events, before the manager closes its client sessions.
        system.announceShutdown()
        await manager?.closeSessions()
        try? await signallingLoop.submit {
            qualify.stop()
            registrar.stop()
        }.get()
        registrar.flush()
        deviceStates.cancel()
        await queueEngine.saveNow()
        queueState.flush()
        queueLogFile.flush()
        queueLogTable.flush()
        // Calls are ended: the CDR writer commits their last records, then the WAL is folded.
        cdr.shutdown()
        await cdrTask.value
        try? storage.checkpoint()
        await transport.shutdown()
        try await group.shutdownGracefully()
        logger.notice("stopped")
    }
}
