import Foundation
import PBXCore

/// The dialplan runs in progress, for management: AMI Getvar/Setvar read and write a running
/// channel's variables and functions, and AMI Redirect moves a channel to another place in the
/// dialplan (Asterisk's async goto). The executor registers each run when it starts and
/// removes it when the main run ends (before the `h` extension).
///
/// A bridged leg that runs no dialplan (one Dial, Queue or Originate created) is redirected by
/// taking it out of its bridge and starting a run on it, with the executor pbxd gives
/// `startRuns(with:)`; AMI Atxfer's consultation is such a run too.
///
/// `@unchecked Sendable` is sound: the only stored state is `runs`, `started` and
/// `currentExecutor`, and every access to them goes through `lock`.
public final class ExecutionRegistry: @unchecked Sendable {
    private let lock = NSLock()
    /// By Uniqueid.
    private var runs: [String: ManagedExecution] = [:]
    private var started = 0
    /// The executor new runs on redirected legs get (the live dialplan's, after a reload too).
    private var currentExecutor: (@Sendable () -> DialplanExecutor)?

    public init() {}

    /// Lets management start runs on legs that have none (redirect of a dialed leg, Atxfer).
    public func startRuns(with executor: @escaping @Sendable () -> DialplanExecutor) {
        lock.withLock { currentExecutor = executor }
    }

    func register(_ run: ManagedExecution) {
        lock.withLock {
            runs[run.channel.uniqueID] = run
            started += 1
        }
    }

    func remove(_ run: ManagedExecution) {
        lock.withLock {
            if runs[run.channel.uniqueID] === run { runs[run.channel.uniqueID] = nil }
        }
    }

    /// The run of a channel given by name (case-insensitive) or Uniqueid.
    public func execution(of channel: String) -> ManagedExecution? {
        lock.withLock {
            runs[channel] ?? runs.values.first { $0.channel.name.caseInsensitiveCompare(channel) == .orderedSame }
        }
    }

    /// Calls in the dialplan now (`core show channels`' "active calls").
    public var count: Int { lock.withLock { runs.count } }
    /// Dialplan runs started since boot ("calls processed").
    public var callsProcessed: Int { lock.withLock { started } }

    /// `${name}` on the channel: a variable, builtin (`EXTEN`…) or function (`CALLERID(num)`);
    /// nil when unset. Throws when the channel runs no dialplan.
    public func value(of name: String, channel: String) async throws(ManagementError) -> String? {
        guard let run = execution(of: channel) else { throw .noDialplan(channel) }
        return await run.view().value(of: name)
    }

    /// `Set(name=value)` on the channel (variables, or writable functions such as CALLERID).
    public func assign(_ name: String, value: String, channel: String) async throws(ManagementError) {
        guard let run = execution(of: channel) else { throw .noDialplan(channel) }
        do {
            try await run.view().assign(name, value: value)
        } catch {
            throw .failed(String(describing: error))
        }
    }

    /// AMI Redirect: interrupts what the channel runs now (Wait, Playback, Read, Echo,
    /// MusicOnHold, Record…) and continues its dialplan at `priority` (a number or a label) of
    /// `exten` in `context`. A Dial in progress notices the interruption only if the dialer
    /// watches for it. A bridged leg with no run (a Dial callee) leaves its bridge — its party's
    /// Dial or Queue ends as for a hangup of that leg (Asterisk's dissolving bridge) — and a run
    /// starts on it at the target, which must exist.
    public func redirect(channel: String, context: String, exten: String, priority: String) async throws(ManagementError) {
        let prepared = try await prepare(channel: channel, context: context, exten: exten, priority: priority)
        if let failure = await perform([prepared]).first { throw failure.error }
    }

    /// AMI Redirect with ExtraChannel: both move, each to its place. A bridged pair (a Dial
    /// caller and the leg it dialed) moves together — the caller's pending redirect is set
    /// before the dialed leg leaves, so its Dial's end takes it there instead of hanging it up.
    /// Nothing moves when the first can't; when only the second can't, the first still moves
    /// (Asterisk's `Secondary redirect failed`).
    public func redirect(_ first: RedirectRequest, and second: RedirectRequest) async throws(DualRedirectFailure) {
        let one: PreparedRedirect
        do {
            one = try await prepare(channel: first.channel, context: first.context, exten: first.exten, priority: first.priority)
        } catch {
            throw .first(error)
        }
        let two: PreparedRedirect
        do {
            two = try await prepare(channel: second.channel, context: second.context, exten: second.exten, priority: second.priority)
        } catch {
            if let failure = await perform([one]).first { throw .first(failure.error) }
            throw .second(error)
        }
        guard let failure = await perform([one, two]).first else { return }
        throw failure.index == 0 ? .first(failure.error) : .second(failure.error)
    }

    /// AMI Atxfer: holds the party bridged with `transferer` (music on hold) and runs
    /// `exten`@`context` on the transferer as its consultation (pbxd's stand-in for Asterisk's
    /// Local channel; see `SIPAttendedTransfer` for what follows). The transferer must be a
    /// bridged leg with no run of its own.
    public func attendedTransfer(transferer: String, context: String, exten: String) async throws(ManagementError) {
        guard execution(of: transferer) == nil else { throw .transferRefused("\(transferer) runs a dialplan; pbxd transfers only legs that Dial, Queue or Originate created") }
        guard let executor = lock.withLock({ currentExecutor })?() else {
            throw .transferRefused("pbxd starts no dialplan runs for management")
        }
        _ = try await Self.locate(context: context, exten: exten, priority: "1", executor: executor)
        guard let transfers = executor.dialer as? any CallTransferring else { throw .transferRefused("the channel technology cannot transfer") }
        do {
            try await transfers.startAttendedTransfer(transferer: transferer, exten: exten, context: context) { channel in
                await executor.run(channel: channel, context: context, exten: exten)
            }
        } catch {
            throw .transferRefused(error.description)
        }
    }

    /// AMI CancelAtxfer: ends `transferer`'s consultation; it returns to the transferee when its
    /// consultation run ends.
    public func cancelAttendedTransfer(transferer: String) async throws(ManagementError) {
        guard let executor = lock.withLock({ currentExecutor })?(),
              let transfers = executor.dialer as? any CallTransferring else { throw .transferRefused("the channel technology cannot transfer") }
        do {
            try await transfers.cancelAttendedTransfer(transferer: transferer)
        } catch {
            throw .transferRefused(error.description)
        }
    }

    /// A redirect checked and ready: of a run (async goto), or of a leg with none (out of its
    /// bridge, then a run at the target).
    private enum PreparedRedirect {
        case run(ManagedExecution, any InterruptibleChannel, DialplanLocation)
        case leg(String, DialplanExecutor, any CallTransferring, DialplanLocation)
    }

    private func prepare(channel: String, context: String, exten: String, priority: String) async throws(ManagementError) -> PreparedRedirect {
        if let run = execution(of: channel) {
            guard let interruptible = run.channel as? any InterruptibleChannel else { throw .notInterruptible(run.channel.name) }
            return .run(run, interruptible, try await run.resolve(context: context, exten: exten, priority: priority))
        }
        guard let executor = lock.withLock({ currentExecutor })?(),
              let transfers = executor.dialer as? any CallTransferring else { throw .noDialplan(channel) }
        let target = try await Self.locate(context: context, exten: exten, priority: priority, executor: executor)
        return .leg(channel, executor, transfers, target)
    }

    /// Moves the prepared channels: pending redirects first, then legs out of their bridges,
    /// then the runs interrupted and the legs' runs started. Returns what failed (by index).
    private func perform(_ redirects: [PreparedRedirect]) async -> [(index: Int, error: ManagementError)] {
        for case .run(let run, _, let target) in redirects { run.beginRedirect(to: target) }
        var failures: [(index: Int, error: ManagementError)] = []
        var detached: [(any CallChannel, DialplanExecutor, DialplanLocation)] = []
        for (index, redirect) in redirects.enumerated() {
            guard case .leg(let channel, let executor, let transfers, let target) = redirect else { continue }
            do {
                detached.append((try await transfers.detachForDialplan(channel), executor, target))
            } catch .noSuchChannel {
                failures.append((index, .noDialplan(channel)))
            } catch {
                failures.append((index, .transferRefused(error.description)))
            }
        }
        for case .run(let run, let interruptible, let target) in redirects {
            await interruptible.interruptApplication()
            run.endRedirectDelivery()
            run.executor.logger.info("Redirect \(run.channel.name) to \(target)")
        }
        for (leg, executor, target) in detached {
            executor.logger.info("Redirect \(leg.name) (a dialed leg) to \(target)")
            Task { await executor.run(channel: leg, context: target.context, exten: target.exten, priority: target.priority) }
        }
        return failures
    }

    /// The existing place `priority` (a number or label) of `exten`@`context` names.
    static func locate(context: String, exten: String, priority: String, executor: DialplanExecutor) async throws(ManagementError) -> DialplanLocation {
        guard executor.hasExtension(context: context, exten: exten, callerID: nil) else { throw .noExtension(exten: exten, context: context) }
        let text = priority.trimmingCharacters(in: .whitespaces)
        let number = Int(text) ?? executor.dialplan.findLabel(context: context, exten: exten, label: text, callerID: nil, at: executor.now())
        guard let number, number > 0 else { throw .invalidPriority(priority) }
        return DialplanLocation(context: context, exten: exten, priority: number)
    }
}

/// One channel's dialplan run as management sees it: the channel, its variables (shared with
/// the run) and a pending redirect. Sendable: everything mutable is behind `lock`.
public final class ManagedExecution: @unchecked Sendable {
    // @unchecked Sendable: `pendingRedirect` and `deliveriesInFlight` are only touched under `lock`;
    // the other properties are immutable and Sendable (`ChannelVariables` locks itself).
    public let channel: any CallChannel
    let executor: DialplanExecutor
    let variables: ChannelVariables
    private let lock = NSLock()
    private var pendingRedirect: DialplanLocation?
    /// Redirects whose interruption is still being delivered to the channel.
    private var deliveriesInFlight = 0

    init(channel: any CallChannel, executor: DialplanExecutor, variables: ChannelVariables) {
        self.channel = channel
        self.executor = executor
        self.variables = variables
    }

    /// A `ChannelExecution` over the same channel and variables, positioned where the channel
    /// is now, for evaluating `${...}` and `Set()` on management's behalf (it has no Gosub
    /// frames: `LOCAL()` reads nothing).
    func view() async -> ChannelExecution {
        let snapshot = await channel.snapshot
        let location = DialplanLocation(context: snapshot.context, exten: snapshot.exten, priority: snapshot.priority)
        return ChannelExecution(channel: channel, executor: executor, location: location, variables: variables)
    }

    func resolve(context: String, exten: String, priority: String) async throws(ManagementError) -> DialplanLocation {
        let text = priority.trimmingCharacters(in: .whitespaces)
        if let number = Int(text) {
            guard number > 0 else { throw .invalidPriority(priority) }
            return DialplanLocation(context: context, exten: exten, priority: number)
        }
        guard let labeled = executor.dialplan.findLabel(
            context: context, exten: exten, label: text, callerID: await channel.callerIDNumber, at: executor.now())
        else { throw .invalidPriority(priority) }
        return DialplanLocation(context: context, exten: exten, priority: labeled)
    }

    /// Where a redirect is about to send the channel (nil when none is pending).
    var pendingTarget: DialplanLocation? { lock.withLock { pendingRedirect } }

    func beginRedirect(to target: DialplanLocation) {
        lock.withLock {
            pendingRedirect = target
            deliveriesInFlight += 1
        }
    }

    func endRedirectDelivery() {
        lock.withLock { deliveriesInFlight -= 1 }
    }

    /// The redirect target, if one is pending, once its interruption has reached the channel
    /// (so clearing the interruption afterwards can't be undone by a late delivery).
    func takeRedirect() async -> DialplanLocation? {
        while true {
            let (target, delivering) = takeDeliveredRedirect()
            if !delivering { return target }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// (target, false) when a delivered redirect was taken or none is pending; (nil, true)
    /// while one is still being delivered.
    private func takeDeliveredRedirect() -> (DialplanLocation?, Bool) {
        lock.withLock {
            guard let target = pendingRedirect else { return (nil, false) }
            guard deliveriesInFlight == 0 else { return (nil, true) }
            pendingRedirect = nil
            return (target, false)
        }
    }
}

/// One channel of AMI Redirect and where it goes.
public struct RedirectRequest: Sendable {
    public var channel, context, exten, priority: String

    public init(channel: String, context: String, exten: String, priority: String) {
        self.channel = channel
        self.context = context
        self.exten = exten
        self.priority = priority
    }
}

/// Which channel of a dual redirect failed, and why.
public enum DualRedirectFailure: Error {
    case first(ManagementError)
    case second(ManagementError)
}

/// Why a management request on a channel's dialplan failed.
public enum ManagementError: Error, Equatable, CustomStringConvertible {
    /// The channel runs no dialplan and can't be given one (unknown or hung up).
    case noDialplan(String)
    /// The channel's technology can't interrupt its application.
    case notInterruptible(String)
    case invalidPriority(String)
    /// A function write failed (unknown function, read-only, bad value).
    case failed(String)
    /// The target extension doesn't exist.
    case noExtension(exten: String, context: String)
    /// The leg could not be handed over (not bridged, already in a transfer, …).
    case transferRefused(String)

    public var description: String {
        switch self {
        case .noDialplan(let channel):
            "\(channel) runs no dialplan (unknown channel)"
        case .notInterruptible(let channel): "\(channel) cannot be redirected (its technology has no async goto)"
        case .invalidPriority(let priority): "Priority is invalid: '\(priority)'"
        case .failed(let reason): reason
        case .noExtension(let exten, let context): "No such extension \(exten)@\(context)"
        case .transferRefused(let reason): reason
        }
    }
}
