import Foundation
import Logging
import PBXCore

/// Runs channels through the dialplan, one priority after another — Asterisk's
/// `__ast_pbx_run`. The caller creates one `Task` per channel and awaits `run` in it; the
/// executor itself is a shareable value (dialplan, registries, dialer, globals, logger).
///
/// The loop, per Asterisk:
/// - Each step looks up `(context, exten, priority)` afresh (so fall-through to a less
///   specific pattern and caller-ID-specific extensions behave as in Asterisk).
/// - It stops when the channel has hung up, an application returns `.hangup` or throws, the
///   task is cancelled (cancellation = hangup), or there is no next priority.
/// - Running off the end of an extension hangs up ("autofallthrough"): with busy/congestion
///   when `DIALSTATUS` says so (indicated for up to 10 s, causes 17/34), else normal clearing.
/// - Landing on an extension that doesn't exist goes to `i` in that context (with
///   `INVALID_EXTEN` set) if there is one, else hangs up.
/// - An unknown application is logged with its location and the channel hung up.
/// - After the channel has hung up, the context's `h` extension runs, if it has one; then the
///   channel leaves its `GROUP()`s.
///
/// Per-run state beyond Asterisk's channel fields (the Gosub stack, open While loops, the
/// language) lives in `ChannelExecution`, not on the `CallChannel`.
public struct DialplanExecutor: Sendable {
    public var dialplan: Dialplan
    public var applications: ApplicationRegistry
    public var functions: FunctionRegistry
    public var dialer: any CallDialer
    public var globals: GlobalVariables
    public var logger: Logger
    /// `DB()`, `DB_EXISTS()`, `DB_DELETE()` read and write here (in memory unless pbxd passes
    /// its SQLite store).
    public var astDB: any AstDB
    /// `GROUP()` memberships; pbxd passes one instance to every executor so counts are
    /// process-wide and survive reloads.
    public var groups: ChannelGroups
    /// The current time, for time-conditional includes and GotoIfTime (injected for tests).
    public var clock: @Sendable () -> Date
    /// The zone time conditions are read in when they don't name one (Asterisk: the server's).
    public var timeZone: TimeZone
    /// How many instant priorities (`Application.isInstant`) may run back to back before the
    /// executor decides the dialplan is looping without ever waiting and hangs up.
    public var maxInstantPriorities: Int
    /// Where global VarSet events go (channel events go through the channel).
    public var events: EventBus?
    /// Told the application each channel runs (CoreShowChannels' Application/ApplicationData).
    public var channels: ChannelRegistry?
    /// The runs in progress, for AMI Getvar/Setvar/Redirect.
    public var executions: ExecutionRegistry

    /// How long autofallthrough plays busy/congestion before hanging up (Asterisk: 10 s).
    public static let fallthroughIndicationTime: Duration = .seconds(10)

    public init(
        dialplan: Dialplan,
        dialer: any CallDialer,
        applications: ApplicationRegistry = .standard,
        functions: FunctionRegistry = .standard,
        globals: GlobalVariables? = nil,
        astDB: any AstDB = InMemoryAstDB(),
        groups: ChannelGroups = ChannelGroups(),
        logger: Logger = Logger(label: "pbxd.dialplan"),
        maxInstantPriorities: Int = 10_000,
        clock: @escaping @Sendable () -> Date = { Date() },
        timeZone: TimeZone = .current,
        events: EventBus? = nil,
        channels: ChannelRegistry? = nil,
        executions: ExecutionRegistry = ExecutionRegistry()
    ) {
        self.dialplan = dialplan
        self.dialer = dialer
        self.applications = applications
        self.functions = functions
        self.globals = globals ?? GlobalVariables(dialplan.globals)
        self.astDB = astDB
        self.groups = groups
        self.logger = logger
        self.maxInstantPriorities = maxInstantPriorities
        self.clock = clock
        self.timeZone = timeZone
        self.events = events
        self.channels = channels
        self.executions = executions
    }

    /// The wall-clock fields of the current time in `timeZone`.
    public func now() -> DialplanClockTime {
        DialplanClockTime(clock(), timeZone: timeZone)
    }

    /// Whether a call to `exten` can start in `context` now (time-conditional includes read
    /// with this executor's clock). The SIP driver asks before creating the channel: false → 404.
    public func hasExtension(context: String, exten: String, callerID: String?) -> Bool {
        dialplan.hasExtension(context: context, exten: exten, callerID: callerID, at: now())
    }

    /// Overlap dialing: could `exten` match with more digits? (484 Address Incomplete / keep
    /// collecting while true.)
    public func matchMore(context: String, exten: String, callerID: String?) -> Bool {
        dialplan.matchMore(context: context, exten: exten, callerID: callerID, at: now())
    }

    /// Overlap dialing: does `exten` match now or could it with more digits?
    public func canMatch(context: String, exten: String, callerID: String?) -> Bool {
        dialplan.canMatch(context: context, exten: exten, callerID: callerID, at: now())
    }

    /// Why a run of priorities ended.
    enum Ending: Equatable {
        /// The channel was hung up by the far end (or the task was cancelled).
        case channelGone
        /// An application asked to hang up.
        case hangup(HangupCause?)
        /// No next priority in an existing extension.
        case fellOffEnd
        /// A failure (unknown app, bad jump, loop guard) — hang up with this cause.
        case failed(HangupCause)
    }

    /// Runs `channel` from `priority` (1 unless an Originate says otherwise) of `exten` in
    /// `context` until the call is over, then hangs it up (if still up) and runs `h`. Returns
    /// when all of that is done. `variables` are set on the channel first (`_`/`__` prefixes
    /// kept: variables inherited from a Dial(), or AMI Originate's `Variable:`).
    public func run(channel: any CallChannel, context: String, exten: String, priority: Int = 1,
                    variables: [String: String] = [:]) async {
        let execution = ChannelExecution(channel: channel, executor: self,
                                         location: DialplanLocation(context: context, exten: exten, priority: priority))
        let managed = ManagedExecution(channel: channel, executor: self, variables: execution.variables)
        execution.managed = managed
        executions.register(managed)
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) { execution.setVariable(name, value) }
        let callerID = await execution.callerID().number
        guard dialplan.findPriority(context: context, exten: exten, priority: priority, callerID: callerID, at: now()) != nil else {
            executions.remove(managed)
            execution.logger.notice("Extension \(exten)@\(context) priority \(priority) not found; hanging up with Unallocated (404)")
            await channel.hangup(cause: .unallocated)
            await (channel as? any DialplanOwnedChannel)?.dialplanEnded()
            return
        }
        let ending = await runPriorities(execution, inHangupHandler: false)
        // From here on the channel is leaving: management can no longer redirect it.
        executions.remove(managed)
        execution.managed = nil
        await finish(execution, ending: ending)
        await runHangupHandler(execution)
        // The channel is gone: it no longer counts in any GROUP_COUNT().
        groups.release(channel: channel.uniqueID)
        await (channel as? any DialplanOwnedChannel)?.dialplanEnded()
    }

    /// The priority loop shared by the main run and the `h` extension.
    func runPriorities(_ execution: ChannelExecution, inHangupHandler: Bool) async -> Ending {
        var instantRun = 0
        while true {
            if Task.isCancelled { return .channelGone }
            if !inHangupHandler, await execution.channel.isHungUp { return .channelGone }
            if await takeRedirect(execution) {
                instantRun = 0
                continue
            }
            let location = execution.location
            let callerID = await execution.callerID().number
            let time = now()
            guard let step = dialplan.findPriority(context: location.context, exten: location.exten, priority: location.priority,
                                                   callerID: callerID, at: time) else {
                if dialplan.hasExtension(context: location.context, exten: location.exten, callerID: callerID, at: time) || inHangupHandler {
                    return .fellOffEnd
                }
                // Sent to an extension that doesn't exist (e.g. by Goto): `i` if the context has it.
                let invalid = SpecialExtension.invalid
                if location.exten != invalid,
                   dialplan.hasExtension(context: location.context, exten: invalid, callerID: callerID, at: time) {
                    execution.logger.info("Sent to invalid extension \(location); going to 'i'")
                    execution.setVariable("INVALID_EXTEN", location.exten)
                    execution.location = DialplanLocation(context: location.context, exten: invalid, priority: 1)
                    continue
                }
                execution.logger.warning("Channel sent to invalid extension \(location) and context has no 'i'; hanging up")
                return .failed(.unallocated)
            }
            guard let application = applications[step.application] else {
                execution.logger.error("No application '\(step.application)' for extension \(location) (\(step.location)); hanging up")
                return .failed(execution.hangupCause ?? .normalClearing)
            }
            let data = await execution.substitute(step.arguments)
            execution.logger.debug("Executing [\(location)] \(application.name)(\"\(execution.channel.name)\", \"\(data)\")")
            await announce(application.name, data: data, execution)
            let result: ApplicationResult
            execution.currentApplicationDidNotWait = false
            do {
                result = try await application.body(execution, data)
            } catch is CancellationError {
                return .channelGone
            } catch {
                // An application cut short by a redirect fails like one cut short by a hangup.
                if await takeRedirect(execution) { continue }
                execution.logger.warning("\(application.name) failed at \(location) (\(step.location)): \(error); hanging up")
                return .failed(execution.hangupCause ?? .normalClearing)
            }
            // A redirect interrupted the application: whatever it returned, go where told.
            if await takeRedirect(execution) {
                instantRun = 0
                continue
            }
            if case .hangup(let cause) = result { return .hangup(cause) }
            if application.isInstant || execution.currentApplicationDidNotWait {
                instantRun += 1
                if instantRun > maxInstantPriorities {
                    execution.logger.error("Dialplan loop: \(maxInstantPriorities) priorities ran without waiting, last at \(location) (\(step.location)); hanging up")
                    return .failed(.temporaryFailure)
                }
            } else {
                instantRun = 0
            }
            execution.advance()
        }
    }

    /// Records where the channel is and what it runs (snapshot, registry) and publishes
    /// Newexten, as Asterisk does before each priority's application.
    private func announce(_ application: String, data: String, _ execution: ChannelExecution) async {
        let location = execution.location
        let channel = execution.channel
        await channel.setDialplanLocation(context: location.context, exten: location.exten, priority: location.priority)
        channels?.setApplication(application, data: data, uniqueID: channel.uniqueID)
        execution.publish { .newexten($0, application: application, data: data) }
    }

    /// Applies a pending redirect (AMI Redirect): moves the run there and lets the channel's
    /// waits work again. False when there is none (or the channel hung up meanwhile).
    private func takeRedirect(_ execution: ChannelExecution) async -> Bool {
        guard let managed = execution.managed, let target = await managed.takeRedirect() else { return false }
        await (execution.channel as? any InterruptibleChannel)?.clearInterruption()
        if await execution.channel.isHungUp { return false }
        execution.logger.info("Redirected from \(execution.location) to \(target)")
        execution.pendingJump = nil
        execution.location = target
        return true
    }

    /// Hangs the channel up the way the run ended (if it is still up).
    private func finish(_ execution: ChannelExecution, ending: Ending) async {
        let channel = execution.channel
        guard !(await channel.isHungUp) else { return }
        var cause: HangupCause
        switch ending {
        case .channelGone:
            cause = execution.hangupCause ?? .normalClearing
        case .hangup(let requested):
            cause = requested ?? execution.hangupCause ?? .normalClearing
        case .failed(let failure):
            cause = failure
        case .fellOffEnd:
            // Asterisk's autofallthrough looks at DIALSTATUS to choose the ending.
            let status = execution.variable("DIALSTATUS")?.uppercased() ?? ""
            execution.logger.info("Auto fallthrough at \(execution.location), DIALSTATUS is '\(status)'")
            switch status {
            case DialStatus.busy.rawValue:
                await channel.indicate(.busy)
                _ = await channel.waitForHangup(timeout: Self.fallthroughIndicationTime)
                cause = .userBusy
            case DialStatus.congestion.rawValue, DialStatus.chanUnavail.rawValue:
                await channel.indicate(.congestion)
                _ = await channel.waitForHangup(timeout: Self.fallthroughIndicationTime)
                cause = .normalCircuitCongestion
            default:
                cause = .normalClearing
            }
        }
        execution.hangupCause = execution.hangupCause ?? cause
        guard !(await channel.isHungUp) else { return }
        await channel.hangup(cause: cause)
    }

    /// Runs the `h` extension of the context the call ended in (Asterisk `ast_pbx_h_exten_run`).
    private func runHangupHandler(_ execution: ChannelExecution) async {
        let context = execution.location.context
        let hangup = SpecialExtension.hangup
        guard execution.location.exten != hangup,
              dialplan.hasExtension(context: context, exten: hangup, callerID: await execution.callerID().number, at: now()) else { return }
        execution.pendingJump = nil
        execution.location = DialplanLocation(context: context, exten: hangup, priority: 1)
        execution.logger.debug("Running 'h' extension in \(context)")
        _ = await runPriorities(execution, inHangupHandler: true)
    }
}
