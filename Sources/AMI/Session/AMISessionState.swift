import Foundation
import PBXCore

/// A manager session's own state (ami.md §5–6): who logged in, the MD5 challenge it was given,
/// the event mask from `Events:` and its filters. A value; `AMISession` keeps it under a lock.
struct AMISessionState: Sendable {
    /// nil until Login succeeds.
    var user: ManagerUser?
    /// The challenge handed out by `Challenge`; it stays the same for the session (captured).
    var challenge: String?
    var eventMask: EventClass = .all
    var filters = EventFilterSet()
    var authenticatedAt: Date?
    /// manager.conf `timestampevents` as it was at login.
    var timestampEvents = false
    /// Events sent to this session so far (WaitEvent waits for this to grow).
    var eventsSent = 0
    /// Events rendered while an action runs, sent after its reply; nil when not holding.
    var heldEvents: [String]?

    var isAuthenticated: Bool { user != nil }

    /// Whether an event goes to this session (ami.md §6.2): every class bit of the event must be
    /// in the user's read set and in the session's mask; the filters are checked on the text.
    func admits(_ eventClass: EventClass) -> Bool {
        guard let user else { return false }
        return user.read.isSuperset(of: eventClass) && eventMask.isSuperset(of: eventClass)
    }

    /// May the user run an action gated by `authority` (any one of its classes suffices)?
    func mayRun(authority: EventClass) -> Bool {
        guard let user else { return false }
        return authority.isEmpty || !user.write.intersection(authority).isEmpty
    }
}

/// The event-mask grammar of Login's `Events:` and the Events action (ami.md §6.3): digits are a
/// bitmask, true/false words mean all/none, otherwise a comma list of class names. nil: invalid.
func parseEventMask(_ text: String) -> EventClass? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty else { return nil }
    if trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) {
        return UInt32(trimmed).map { EventClass(rawValue: $0) }
    }
    switch trimmed.lowercased() {
    case "on", "yes", "true", "y", "t": return .all
    case "off", "no", "false", "n", "f": return []
    default:
        guard case .success(let classes) = EventClass.parse(trimmed) else { return nil }
        return classes
    }
}

/// `system,reporting` for ListCommands' `(Priv: …)`; `<none>` when anyone may run it.
func authorityText(_ classes: EventClass) -> String {
    if classes == .all { return "all" }
    let names = EventClass.named.filter { classes.contains($0.value) }.map(\.name)
    return names.isEmpty ? "<none>" : names.joined(separator: ",")
}
