import Dialplan
import Foundation
import NIOConcurrencyHelpers
import PBXCore

/// The actions on live channels (ami.md §8.2–8.8; transcript ami-06): CoreShowChannels,
/// Status (StatusAction.swift), Hangup (name or /regex/), Getvar/Setvar on a channel, Redirect (+ExtraChannel) and
/// AbsoluteTimeout — over the switch's channel registry and the dialplan runs in progress.
struct ChannelActions {
    let channels: ChannelRegistry
    let executions: ExecutionRegistry
    let globals: GlobalVariables
    let bus: EventBus
    let timeouts = AbsoluteTimeouts()

    func register(into registry: ManagerActionRegistry) {
        registry.register(ManagerAction(name: "CoreShowChannels", authority: [.system, .reporting]) { _ in
            let items = await channels.list().map { live in
                ManagerEvent(name: "CoreShowChannel", class: [], fields: live.snapshot.fields() + [
                    .init("Application", live.application), .init("ApplicationData", live.applicationData),
                    .init("Duration", live.duration()), .init("BridgeId", live.bridgeID),
                ])
            }
            return .list(message: "Channels will follow", items: items, completeEvent: "CoreShowChannelsComplete")
        })
        StatusAction(channels: channels, executions: executions, timeouts: timeouts).register(into: registry)
        registry.register(ManagerAction(name: "Hangup", authority: [.system, .call]) { request in
            await hangup(request)
        })
        registry.register(ManagerAction(name: "Getvar", authority: [.call, .reporting]) { request in
            await getvar(request)
        })
        registry.register(ManagerAction(name: "Setvar", authority: .call) { request in
            await setvar(request)
        })
        registry.register(ManagerAction(name: "Redirect", authority: .call) { request in
            await redirect(request)
        })
        registry.register(ManagerAction(name: "PlayDTMF", authority: .call) { request in
            await playDTMF(request)
        })
        registry.register(ManagerAction(name: "BlindTransfer", authority: .call) { request in
            await blindTransfer(request)
        })
        registry.register(ManagerAction(name: "Atxfer", authority: .call) { request in
            await attendedTransfer(request)
        })
        registry.register(ManagerAction(name: "CancelAtxfer", authority: .call) { request in
            await cancelAttendedTransfer(request)
        })
        registry.register(ManagerAction(name: "AbsoluteTimeout", authority: [.system, .call]) { request in
            guard let name = nonEmpty(request["Channel"]) else { return .error("No channel specified") }
            guard let seconds = Int(request["Timeout"] ?? ""), seconds >= 0 else { return .error("No timeout specified") }
            guard let channel = channels.channel(named: name) else { return .error("No such channel") }
            timeouts.set(seconds, on: channel, registry: channels)
            return .success(message: "Timeout Set")
        })
    }

    private func hangup(_ request: ManagerRequest) async -> ManagerReply {
        guard let pattern = nonEmpty(request["Channel"]) else { return .error("No channel specified") }
        var cause = HangupCause.normalClearing
        if let text = nonEmpty(request["Cause"]) {
            guard let number = Int(text), let parsed = HangupCause(rawValue: number) else { return .error("Invalid cause") }
            cause = parsed
        }
        let found: [any CallChannel]
        do {
            found = try channels.find(pattern)
        } catch {
            return .error("Invalid regex")
        }
        let isRegex = pattern.count >= 2 && pattern.hasPrefix("/") && pattern.hasSuffix("/")
        guard isRegex else {
            guard let channel = found.first else { return .error("No such channel") }
            await channels.hangup(channel, cause: cause)
            return .success(message: "Channel Hungup")
        }
        var items: [ManagerEvent] = []
        for channel in found {
            await channels.hangup(channel, cause: cause)
            items.append(ManagerEvent(name: "ChannelHungup", class: [], fields: [.init("Channel", channel.name)]))
        }
        return .list(message: "Channels hung up will follow", items: items, completeEvent: "ChannelsHungupListComplete")
    }

    private func getvar(_ request: ManagerRequest) async -> ManagerReply {
        guard let name = nonEmpty(request["Variable"]) else { return .error("No variable specified") }
        guard let channel = nonEmpty(request["Channel"]) else {
            guard !name.contains("(") else { return .error("GetVar of a function requires a Channel") }
            return .success(message: nil, fields: [.init("Variable", name), .init("Value", globals[name] ?? "")])
        }
        do {
            let value = try await executions.value(of: name, channel: channel)
            return .success(message: nil, fields: [.init("Variable", name), .init("Value", value ?? "")])
        } catch {
            return .error("No such channel")
        }
    }

    private func setvar(_ request: ManagerRequest) async -> ManagerReply {
        guard let name = nonEmpty(request["Variable"]) else { return .error("No variable specified") }
        let value = request["Value"] ?? ""
        guard let channel = nonEmpty(request["Channel"]) else {
            globals[name] = value
            // A global VarSet has `Channel: none` and `Uniqueid: none` for the channel block.
            bus.publish(ManagerEvent(name: "VarSet", class: .dialplan, fields: [
                .init("Channel", "none"), .init("Uniqueid", "none"), .init("Variable", name), .init("Value", value),
            ]))
            return .success(message: "Variable Set")
        }
        do {
            try await executions.assign(name, value: value, channel: channel)
            return .success(message: "Variable Set")
        } catch .noDialplan {
            return .error("No such channel")
        } catch {
            return .error("Variable not set")
        }
    }

    private func redirect(_ request: ManagerRequest) async -> ManagerReply {
        guard let name = nonEmpty(request["Channel"]) else { return .error("Channel not specified") }
        guard let exten = nonEmpty(request["Exten"]) else { return .error("Exten not specified") }
        guard let context = nonEmpty(request["Context"]) else { return .error("Context not specified") }
        guard let priority = nonEmpty(request["Priority"]) else { return .error("Priority not specified") }
        guard channels.channel(named: name) != nil else { return .error("Channel does not exist: \(name)") }
        let extra = nonEmpty(request["ExtraChannel"])
        if let extra {
            guard nonEmpty(request["ExtraExten"]) != nil, nonEmpty(request["ExtraPriority"]) != nil else {
                return .error("ExtraChannel requires ExtraExten and ExtraPriority")
            }
            guard channels.channel(named: extra) != nil else { return .error("Channel does not exist: \(extra)") }
        }
        guard let extra else {
            do {
                try await executions.redirect(channel: name, context: context, exten: exten, priority: priority)
            } catch .invalidPriority {
                return .error("Priority is invalid")
            } catch {
                return .error("Redirect failed")
            }
            return .success(message: "Redirect successful")
        }
        do {
            try await executions.redirect(
                RedirectRequest(channel: name, context: context, exten: exten, priority: priority),
                and: RedirectRequest(channel: extra, context: nonEmpty(request["ExtraContext"]) ?? context,
                                     exten: request["ExtraExten"] ?? "", priority: request["ExtraPriority"] ?? ""))
        } catch .first(.invalidPriority) {
            return .error("Priority is invalid")
        } catch .first {
            return .error("Redirect failed")
        } catch {
            return .error("Secondary redirect failed")
        }
        return .success(message: "Dual Redirect successful")
    }
}

extension ChannelActions {
    /// PlayDTMF: sends one digit to the channel's phone (RFC 4733, or INFO as its peer wants),
    /// `Duration` ms long (Asterisk's default 250 ms when absent).
    func playDTMF(_ request: ManagerRequest) async -> ManagerReply {
        guard let name = nonEmpty(request["Channel"]) else { return .error("Channel not specified") }
        guard let digit = nonEmpty(request["Digit"]), digit.count == 1, "0123456789*#ABCDabcd".contains(digit) else {
            return .error("No digit specified")
        }
        guard let channel = channels.channel(named: name) else { return .error("Channel not found") }
        let milliseconds = Int(request["Duration"] ?? "") ?? 250
        guard await channel.sendDTMF(digit, duration: .milliseconds(max(40, milliseconds)), gap: .zero) else {
            return .error("Could not play DTMF")
        }
        return .success(message: "DTMF successfully queued")
    }

    /// BlindTransfer: the party bridged with `Channel` (the transferer) goes to Exten@Context and
    /// the transferer is hung up — a CRM's "transfer this caller to 1002". A transferee that
    /// Dial created (no dialplan of its own) leaves the bridge and starts a run there.
    func blindTransfer(_ request: ManagerRequest) async -> ManagerReply {
        guard let name = nonEmpty(request["Channel"]) else { return .error("No channel specified") }
        guard let exten = nonEmpty(request["Exten"]) else { return .error("No extension specified") }
        guard let transferer = await channels.describe(name) else { return .error("No such channel") }
        guard !transferer.bridgeID.isEmpty,
              let transferee = await channels.list().first(where: {
                  $0.bridgeID == transferer.bridgeID && $0.snapshot.uniqueID != transferer.snapshot.uniqueID
              })
        else { return .error("Transfer failed: \(transferer.snapshot.name) is not bridged") }
        let context = nonEmpty(request["Context"]) ?? transferee.snapshot.context
        let bridge = BridgeSnapshot(uniqueID: transferer.bridgeID, channelCount: 2)
        func report(_ result: String) {
            bus.publish(.blindTransfer(result: result, transferer: transferer.snapshot, transferee: transferee.snapshot,
                                       bridge: bridge, context: context, exten: exten))
        }
        do {
            try await executions.redirect(channel: transferee.snapshot.name, context: context, exten: exten, priority: "1")
        } catch .invalidPriority, .noExtension {
            report("Invalid")
            return .error("Transfer failed: no extension \(exten)@\(context)")
        } catch {
            report("Fail")
            return .error("Transfer failed: \(error)")
        }
        report("Success")
        if let channel = channels.channel(named: transferer.snapshot.name) {
            await channels.hangup(channel, cause: .normalClearing)
        }
        return .success(message: "Transfer succeeded")
    }
}

extension ChannelActions {
    /// Atxfer: an attended transfer by `Channel` (the transferer) to Exten@Context (Context
    /// defaults to the transferer's): its party is held with music on hold while the
    /// transferer consults; see `ExecutionRegistry.attendedTransfer`. The transferer must be
    /// a leg that Dial, Queue or Originate created (pbxd's consultation runs on it).
    func attendedTransfer(_ request: ManagerRequest) async -> ManagerReply {
        guard let name = nonEmpty(request["Channel"]) else { return .error("No channel specified") }
        guard let exten = nonEmpty(request["Exten"]) else { return .error("No extension specified") }
        guard let transferer = await channels.describe(name) else { return .error("Channel specified does not exist") }
        let context = nonEmpty(request["Context"]) ?? transferer.snapshot.context
        do {
            try await executions.attendedTransfer(transferer: transferer.snapshot.name, context: context, exten: exten)
        } catch .noExtension {
            return .error("Atxfer failed: no extension \(exten)@\(context)")
        } catch {
            return .error("Atxfer failed: \(error)")
        }
        return .success(message: "Atxfer successfully queued")
    }

    /// CancelAtxfer: the transferer's consultation ends (target hung up or its ringing
    /// cancelled) and it goes back to the transferee.
    func cancelAttendedTransfer(_ request: ManagerRequest) async -> ManagerReply {
        guard let name = nonEmpty(request["Channel"]) else { return .error("No channel specified") }
        guard let transferer = await channels.describe(name) else { return .error("Channel specified does not exist") }
        do {
            try await executions.cancelAttendedTransfer(transferer: transferer.snapshot.name)
        } catch {
            return .error("CancelAtxfer failed: \(error)")
        }
        return .success(message: "CancelAtxfer successfully queued")
    }
}

/// AbsoluteTimeout's pending hangups, one per channel (a new one replaces the old; 0 cancels).
final class AbsoluteTimeouts: Sendable {
    private let pending = NIOLockedValueBox<[String: (task: Task<Void, Never>, deadline: Date)]>([:])

    func set(_ seconds: Int, on channel: any CallChannel, registry: ChannelRegistry) {
        let id = channel.uniqueID
        let task: Task<Void, Never>? = seconds == 0 ? nil : Task {
            try? await Task.sleep(for: .seconds(seconds))
            guard !Task.isCancelled else { return }
            await registry.hangup(channel, cause: .normalClearing)
        }
        let old = pending.withLockedValue { table in
            let previous = table.removeValue(forKey: id)
            if let task { table[id] = (task, Date().addingTimeInterval(TimeInterval(seconds))) }
            return previous
        }
        old?.task.cancel()
    }

    /// Seconds left before the channel is hung up (Status `TimeToHangup`), 0 when none.
    func remaining(on uniqueID: String) -> Int {
        pending.withLockedValue { $0[uniqueID] }.map { max(0, Int($0.deadline.timeIntervalSinceNow.rounded(.up))) } ?? 0
    }
}
