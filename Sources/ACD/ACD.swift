import Dialplan
import Foundation
import Logging
import PBXCore

/// What the ACD's applications share: the engine and the music-on-hold classes.
struct ACDServices: Sendable {
    var engine: QueueEngine
    var musicOnHold: MusicOnHoldConfig

    /// The queue's `musicclass` (falling back to `default`), or ringing with option `r`.
    func holdSound(for settings: QueueSettings, ringing: Bool) -> HoldSound {
        if ringing { return .ringing }
        guard let music = musicOnHold.classes[settings.musicClass] ?? musicOnHold.classes["default"] else { return .silence }
        return .music(.music(files: music.files, random: music.random))
    }
}

/// The ACD as pbxd wires it (DESIGN.md §1): registers Queue(), the member applications and
/// functions, the hot-desking applications, the queue manager actions and the `queue …`
/// console commands, and
/// follows device states from the event bus.
public enum ACD {
    /// - Parameter reloadConfig: reads queues.conf (and queuerules.conf) again for QueueReload
    ///   and `queue reload`; nil: those answer that reloading is not possible.
    public static func register(
        engine: QueueEngine, musicOnHold: MusicOnHoldConfig, queueLog: (any QueueLogSink)?,
        applications: inout ApplicationRegistry, functions: inout FunctionRegistry,
        managerActions: ManagerActionRegistry?, commands: CLICommandRegistry?,
        reloadConfig: (@Sendable () throws(ConfigError) -> QueuesConfig)? = nil
    ) {
        let services = ACDServices(engine: engine, musicOnHold: musicOnHold)
        applications.register(QueueApplication.application(services))
        for application in MemberApplications.all(engine) + AgentApplications.all(engine) { applications.register(application) }
        for function in QueueFunctions.all(engine) { functions.register(function) }
        if let managerActions {
            QueueManagerActions.register(into: managerActions, engine: engine, queueLog: queueLog, clock: { Date() })
            QueueAdminActions.register(into: managerActions, engine: engine, reloadConfig: reloadConfig)
        }
        commands?.register(QueueShowCommand.command(engine))
        for command in QueueMemberCommands.all(engine) + QueueAdminCommands.all(engine, reloadConfig: reloadConfig) { commands?.register(command) }
    }

    /// Feeds the bus's events the engine follows — `DeviceStateChange`, and successful
    /// AttendedTransfer (queue_log ATTENDEDTRANSFER) — to it until the bus cuts it off or the
    /// task is cancelled.
    public static func followEvents(on bus: EventBus, engine: QueueEngine) -> Task<Void, Never> {
        let subscription = bus.subscribe(label: "acd.events")
        return Task {
            for await event in subscription.events {
                if let change = DeviceStateChange(event) {
                    await engine.deviceStateChanged(change.device, to: change.state)
                } else if let transfer = CompletedAttendedTransfer(event) {
                    await engine.attendedTransfer(transfer)
                }
            }
        }
    }
}
