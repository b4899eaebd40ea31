import Dialplan
import Foundation
import PBXCore

/// Status (ami.md §8.7; transcript ami-06): one `Event: Status` (with `Privilege: Call`, as
/// captured) per channel, ending in StatusComplete with both `ListItems` and `Items`. The codec
/// fields come from the channel itself (a SIP leg's negotiated codec); a channel that can't
/// tell its formats has them left out rather than invented.
struct StatusAction {
    let channels: ChannelRegistry
    let executions: ExecutionRegistry
    /// AbsoluteTimeout's pending hangups, for `TimeToHangup`.
    let timeouts: AbsoluteTimeouts

    func register(into registry: ManagerActionRegistry) {
        registry.register(ManagerAction(name: "Status", authority: [.system, .call, .reporting]) { request in
            await status(request)
        })
    }

    private func status(_ request: ManagerRequest) async -> ManagerReply {
        var live: [LiveChannel]
        if let name = nonEmpty(request["Channel"]) {
            guard let one = await channels.describe(name) else { return .error("No such channel") }
            live = [one]
        } else {
            live = await channels.list()
        }
        let wanted = (request["Variables"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var items: [ManagerEvent] = []
        for channel in live {
            var fields = Self.fields(of: channel, timeToHangup: timeouts.remaining(on: channel.snapshot.uniqueID))
            for name in wanted {
                let value = (try? await executions.value(of: name, channel: channel.snapshot.uniqueID)) ?? nil
                fields.append(.init("Variable", "\(name)=\(value ?? "")"))
            }
            if let actionID = nonEmpty(request["ActionID"]) { fields.append(.init("ActionID", actionID)) }
            items.append(ManagerEvent(name: "Status", class: [], fields: fields))
        }
        return .list(message: "Channel status will follow", items: items, completeEvent: "StatusComplete",
                     completeFields: [.init("Items", String(items.count))])
    }

    /// One channel's Status fields, in the captured order, up to `Seconds`.
    static func fields(of channel: LiveChannel, timeToHangup: Int, now: Date = Date()) -> [ManagerEvent.Field] {
        let snapshot = channel.snapshot
        var fields = [ManagerEvent.Field("Privilege", "Call")] + snapshot.fields()
        fields += [
            .init("Type", String(snapshot.name.prefix { $0 != "/" })), .init("DNID", channel.dialedNumber),
            .init("EffectiveConnectedLineNum", snapshot.connectedLineNumber.isEmpty ? "<unknown>" : snapshot.connectedLineNumber),
            .init("EffectiveConnectedLineName", snapshot.connectedLineName.isEmpty ? "<unknown>" : snapshot.connectedLineName),
            .init("TimeToHangup", String(timeToHangup)), .init("BridgeID", channel.bridgeID),
            .init("Application", channel.application), .init("Data", channel.applicationData),
        ]
        fields += channel.formats?.statusFields ?? []
        fields += [.init("Callgroup", "0"), .init("Pickupgroup", "0"), .init("Seconds", String(channel.seconds(now: now)))]
        return fields
    }
}
