import Foundation
import NIOConcurrencyHelpers

/// Every live channel of the switch, by name and by Uniqueid, with what management listings
/// show about it: when it was created, the application it runs and the bridge it is in.
/// Channel drivers register a channel when they create it and remove it when it hangs up;
/// the dialplan executor records the application of each priority; AMI (CoreShowChannels,
/// Status, Hangup, Getvar) and the console (`core show channels`) read it.
public final class ChannelRegistry: Sendable {
    private struct Entry {
        let channel: any CallChannel
        let createdAt: Date
        let dialedNumber: String
        var application = ""
        var applicationData = ""
        var bridgeID = ""
    }

    private struct State {
        var byUniqueID: [String: Entry] = [:]
        /// Lower-cased name → Uniqueid (Asterisk matches channel names case-insensitively).
        var uniqueIDByName: [String: String] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let clock: @Sendable () -> Date
    /// Where SoftHangupRequest goes for channels that don't publish their own events.
    private let events: EventBus?

    public init(events: EventBus? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.events = events
        self.clock = clock
    }

    // MARK: Registration

    /// `dialedNumber` is what an inbound call asked for (Status `DNID`); empty for outbound legs.
    public func register(_ channel: any CallChannel, dialedNumber: String = "") {
        let entry = Entry(channel: channel, createdAt: clock(), dialedNumber: dialedNumber)
        state.withLockedValue { state in
            state.byUniqueID[channel.uniqueID] = entry
            state.uniqueIDByName[channel.name.lowercased()] = channel.uniqueID
        }
    }

    public func remove(uniqueID: String) {
        state.withLockedValue { state in
            guard let entry = state.byUniqueID.removeValue(forKey: uniqueID) else { return }
            state.uniqueIDByName[entry.channel.name.lowercased()] = nil
        }
    }

    /// The application (and its substituted data) the channel runs now: the executor sets it
    /// for each priority, a dialer sets `AppDial` / `(Outgoing Line)` on the legs it creates.
    public func setApplication(_ application: String, data: String, uniqueID: String) {
        state.withLockedValue { state in
            state.byUniqueID[uniqueID]?.application = application
            state.byUniqueID[uniqueID]?.applicationData = data
        }
    }

    /// The bridge the channel is in (`BridgeId` / `BridgeID`), nil when it leaves it.
    public func setBridge(_ bridgeID: String?, uniqueID: String) {
        state.withLockedValue { $0.byUniqueID[uniqueID]?.bridgeID = bridgeID ?? "" }
    }

    // MARK: Lookup

    public var count: Int { state.withLockedValue { $0.byUniqueID.count } }

    /// A channel by its exact name (case-insensitive) or its Uniqueid, as
    /// `ast_channel_get_by_name` finds one.
    public func channel(named nameOrUniqueID: String) -> (any CallChannel)? {
        state.withLockedValue { state in
            let uniqueID = state.uniqueIDByName[nameOrUniqueID.lowercased()] ?? nameOrUniqueID
            return state.byUniqueID[uniqueID]?.channel
        }
    }

    /// AMI Hangup's `Channel:`: `/regex/` matches names (anywhere in the name, as POSIX
    /// `regexec` does); anything else is one exact name or Uniqueid.
    public func find(_ pattern: String) throws(ChannelPatternError) -> [any CallChannel] {
        guard pattern.count >= 2, pattern.hasPrefix("/"), pattern.hasSuffix("/") else {
            return channel(named: pattern).map { [$0] } ?? []
        }
        let body = String(pattern.dropFirst().dropLast())
        let regex: NSRegularExpression
        do {
            regex = try NSRegularExpression(pattern: body)
        } catch {
            throw ChannelPatternError(pattern: body)
        }
        return entriesInCreationOrder().map(\.channel).filter { channel in
            let name = channel.name
            return regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
        }
    }

    // MARK: Listings

    /// Every live channel as listings show it, oldest first.
    public func list() async -> [LiveChannel] {
        var result: [LiveChannel] = []
        for entry in entriesInCreationOrder() {
            result.append(await Self.describe(entry))
        }
        return result
    }

    /// One channel as listings show it (by name or Uniqueid).
    public func describe(_ nameOrUniqueID: String) async -> LiveChannel? {
        let entry = state.withLockedValue { state -> Entry? in
            let uniqueID = state.uniqueIDByName[nameOrUniqueID.lowercased()] ?? nameOrUniqueID
            return state.byUniqueID[uniqueID]
        }
        guard let entry else { return nil }
        return await Self.describe(entry)
    }

    private static func describe(_ entry: Entry) async -> LiveChannel {
        LiveChannel(
            snapshot: await entry.channel.snapshot, createdAt: entry.createdAt, dialedNumber: entry.dialedNumber,
            application: entry.application, applicationData: entry.applicationData, bridgeID: entry.bridgeID,
            formats: await (entry.channel as? any MediaFormatReporting)?.formats)
    }

    private func entriesInCreationOrder() -> [Entry] {
        state.withLockedValue { Array($0.byUniqueID.values) }.sorted { lhs, rhs in
            lhs.createdAt != rhs.createdAt ? lhs.createdAt < rhs.createdAt : lhs.channel.uniqueID < rhs.channel.uniqueID
        }
    }

    // MARK: Control

    /// Hangs a channel up on management's request (AMI Hangup, `channel request hangup`):
    /// SoftHangupRequest, then the channel's own hangup (which publishes Hangup).
    public func hangup(_ channel: any CallChannel, cause: HangupCause) async {
        let request: @Sendable (ChannelSnapshot) -> ManagerEvent = { .softHangupRequest($0, cause: cause) }
        if let source = channel as? any ChannelEventSource {
            source.publishEvent(request)
        } else if let events {
            events.publish(request(await channel.snapshot))
        }
        await channel.hangup(cause: cause)
    }
}

/// One live channel as CoreShowChannels / Status / `core show channels` describe it.
public struct LiveChannel: Sendable {
    public var snapshot: ChannelSnapshot
    public var createdAt: Date
    /// Status `DNID`: the number an inbound call dialed; empty for outbound legs.
    public var dialedNumber: String
    public var application: String
    public var applicationData: String
    /// Empty when not bridged.
    public var bridgeID: String
    /// Status `Nativeformats`/`Readformat`…; nil for a channel that can't tell.
    public var formats: ChannelFormats?

    public init(
        snapshot: ChannelSnapshot, createdAt: Date, dialedNumber: String = "", application: String, applicationData: String,
        bridgeID: String, formats: ChannelFormats? = nil
    ) {
        self.snapshot = snapshot
        self.createdAt = createdAt
        self.dialedNumber = dialedNumber
        self.application = application
        self.applicationData = applicationData
        self.bridgeID = bridgeID
        self.formats = formats
    }

    /// Whole seconds since the channel was created (Status `Seconds`).
    public func seconds(now: Date = Date()) -> Int {
        max(0, Int(now.timeIntervalSince(createdAt).rounded(.down)))
    }

    /// `HH:MM:SS` since creation (CoreShowChannel `Duration`).
    public func duration(now: Date = Date()) -> String {
        let total = seconds(now: now)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        return "\(two(total / 3600)):\(two(total / 60 % 60)):\(two(total % 60))"
    }
}

/// `/regex/` in a channel pattern that is not a valid regular expression.
public struct ChannelPatternError: Error, Equatable, CustomStringConvertible {
    public var pattern: String
    public var description: String { "invalid regular expression '\(pattern)'" }
}
