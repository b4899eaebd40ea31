import NIOConcurrencyHelpers

/// How the dialplan's `CDR()` reaches the CDR engine: a per-channel table, keyed by Uniqueid,
/// that `Set(CDR(userfield)=…)`, `Set(CDR(accountcode)=…)`, `Set(CDR(recordingfile)=…)` (and
/// MixMonitor) write, and that the engine reads when it finishes the channel's records.
///
/// Why a shared table rather than an event on the bus: CDR variables are not AMI events
/// (Asterisk sends none for them), and `${CDR(start)}` must be readable synchronously from the
/// dialplan. The engine writes the live times (`start`, `answer`, `disposition`) here as it
/// processes events, so `CDR(duration)`/`CDR(billsec)` can be computed on read.
///
/// Lifetime: the engine removes a channel's entry when it processes the channel's `Hangup`,
/// so values set until then (including from the `h` extension, which runs before Asterisk-style
/// Hangup) are in the record. A write that arrives after that is dropped, with the entry's
/// key remembered in a small ring so late writes cannot grow the table.
public final class CDRVariableStore: Sendable {
    private struct State {
        var channels: [String: [String: String]] = [:]
        var finished: [String] = []
        var finishedSet: Set<String> = []
    }

    private let state = NIOLockedValueBox(State())
    private static let finishedMemory = 4096
    /// False when cdr.conf disables CDRs: no engine will ever take the entries, so none are kept.
    public let isEnabled: Bool

    public init(enabled: Bool = true) {
        isEnabled = enabled
    }

    /// Sets `name` (lower-cased: CDR variable names are case-insensitive) for the channel.
    public func set(_ name: String, _ value: String, channel uniqueID: String) {
        guard isEnabled else { return }
        state.withLockedValue { state in
            guard !state.finishedSet.contains(uniqueID) else { return }
            state.channels[uniqueID, default: [:]][name.lowercased()] = value
        }
    }

    public func value(_ name: String, channel uniqueID: String) -> String? {
        state.withLockedValue { $0.channels[uniqueID]?[name.lowercased()] }
    }

    /// Every variable of the channel (the engine's live fields included).
    public func variables(channel uniqueID: String) -> [String: String] {
        state.withLockedValue { $0.channels[uniqueID] ?? [:] }
    }

    /// Removes and returns the channel's variables; later writes for it are ignored.
    func finish(channel uniqueID: String) -> [String: String] {
        state.withLockedValue { state in
            if state.finishedSet.insert(uniqueID).inserted {
                state.finished.append(uniqueID)
                if state.finished.count > Self.finishedMemory {
                    state.finishedSet.remove(state.finished.removeFirst())
                }
            }
            return state.channels.removeValue(forKey: uniqueID) ?? [:]
        }
    }

    /// How many channels have entries (tests, leak checks).
    public var count: Int { state.withLockedValue { $0.channels.count } }
}

extension CDRVariableStore {
    /// Names the engine keeps up to date for reads; the dialplan can't set them.
    public static let liveFields: Set<String> = ["start", "answer", "disposition"]
}
