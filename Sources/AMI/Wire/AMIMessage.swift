import Foundation
import NIOConcurrencyHelpers
import PBXCore

/// One server→client message (ami.md §3–4): `Key: Value` lines with CRLF and a blank line.
/// The first line is always `Response:` or `Event:`, which is what every client keys on.
struct AMIMessage: Equatable {
    var fields: [ManagerEvent.Field]

    init(_ fields: [ManagerEvent.Field]) { self.fields = fields }

    /// The wire text. Values are single-line: a CR or LF inside one (free text, a client's own
    /// header echoed back) is C-escaped so it can't end the message early.
    var text: String {
        var out = ""
        out.reserveCapacity(fields.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 4 })
        for field in fields {
            out += field.key
            out += ": "
            out += Self.escapeLineBreaks(field.value)
            out += "\r\n"
        }
        out += "\r\n"
        return out
    }

    static func escapeLineBreaks(_ value: String) -> String {
        guard value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return value }
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // MARK: Responses

    /// `Response: <kind>`, then `ActionID` when the request carried a non-empty one.
    static func response(_ kind: String, actionID: String?, _ rest: [ManagerEvent.Field] = []) -> AMIMessage {
        var fields = [ManagerEvent.Field("Response", kind)]
        if let actionID, !actionID.isEmpty { fields.append(.init("ActionID", actionID)) }
        return AMIMessage(fields + rest)
    }

    static func success(actionID: String?, message: String?, _ rest: [ManagerEvent.Field] = []) -> AMIMessage {
        response("Success", actionID: actionID, (message.map { [.init("Message", $0)] } ?? []) + rest)
    }

    static func error(actionID: String?, message: String) -> AMIMessage {
        response("Error", actionID: actionID, [.init("Message", message)])
    }

    /// The messages for an action's reply: one Response, plus the items and the closing event
    /// of an EventList (ami.md §4.1).
    static func reply(_ reply: ManagerReply, actionID: String?) -> [AMIMessage] {
        switch reply {
        case .success(let message, let fields):
            return [success(actionID: actionID, message: message, fields)]
        case .error(let message):
            return [error(actionID: actionID, message: message)]
        case .commandOutput(let lines):
            return [commandOutput(lines, succeeded: true, actionID: actionID)]
        case .list(let message, let items, let completeEvent, let completeFields):
            var messages = [response("Success", actionID: actionID, [.init("EventList", "start"), .init("Message", message)])]
            messages += items.map { listItem($0, actionID: actionID) }
            var complete = [ManagerEvent.Field("Event", completeEvent)]
            if let actionID, !actionID.isEmpty { complete.append(.init("ActionID", actionID)) }
            complete += [.init("EventList", "Complete"), .init("ListItems", String(items.count))] + completeFields
            messages.append(AMIMessage(complete))
            return messages
        }
    }

    /// Command's modern reply (ami.md §7; transcript ami-06): one `Output:` per line, and
    /// `Response: Error` — still with the output — when the CLI command failed.
    static func commandOutput(_ lines: [String], succeeded: Bool, actionID: String?) -> AMIMessage {
        response(succeeded ? "Success" : "Error", actionID: actionID,
                 [.init("Message", "Command output follows")] + lines.map { .init("Output", $0) })
    }

    /// A list item: `Event:` first; `ActionID` second unless the item places it itself (Status
    /// and DBGetResponse put it last); no `Privilege:` unless the item carries one (Status).
    static func listItem(_ event: ManagerEvent, actionID: String?) -> AMIMessage {
        var fields = [ManagerEvent.Field("Event", event.name)]
        let placesActionID = event.fields.contains { $0.key == "ActionID" }
        if !placesActionID, let actionID, !actionID.isEmpty { fields.append(.init("ActionID", actionID)) }
        return AMIMessage(fields + event.fields)
    }

    // MARK: Events

    /// A bus event as sessions receive it: `Event`, `Privilege: <classes>,all`, the optional
    /// `Timestamp` (timestampevents=yes), then its fields in order.
    static func event(_ event: ManagerEvent, timestamp: Bool) -> AMIMessage {
        var fields = [ManagerEvent.Field("Event", event.name), .init("Privilege", privilegeText(event.eventClass))]
        if timestamp { fields.append(.init("Timestamp", formatTimestamp(event.timestamp))) }
        return AMIMessage(fields + event.fields)
    }

    /// `call,all` for a class set, computed once per set (events carry few distinct sets, and
    /// every session renders every event).
    static func privilegeText(_ classes: EventClass) -> String {
        if let known = privilegeTexts.withLockedValue({ $0[classes.rawValue] }) { return known }
        let text = classes.privilegeText
        privilegeTexts.withLockedValue { $0[classes.rawValue] = text }
        return text
    }

    private static let privilegeTexts = NIOLockedValueBox<[UInt32: String]>([:])

    /// `1795306806.723658`: seconds and microseconds, as Ping and Timestamp print it.
    static func formatTimestamp(_ seconds: Double) -> String {
        String(format: "%.6f", seconds)
    }
}
