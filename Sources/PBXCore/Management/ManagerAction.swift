import NIOConcurrencyHelpers

/// A manager (AMI) action as the subsystem that owns it defines it: ACD registers QueueAdd,
/// the dialplan DBGet, and so on, without importing the AMI target (DESIGN.md §1). The AMI
/// target owns the wire: it parses requests, checks `authority`, and writes the reply.
public struct ManagerAction: Sendable {
    public var name: String
    /// Write classes of which the user needs any one; empty: any logged-in user (ami.md §6.1).
    public var authority: EventClass
    public var handler: @Sendable (ManagerRequest) async -> ManagerReply

    public init(name: String, authority: EventClass, handler: @escaping @Sendable (ManagerRequest) async -> ManagerReply) {
        self.name = name
        self.authority = authority
        self.handler = handler
    }
}

/// One action request: its headers in wire order (a key may repeat, as `Variable:` does).
public struct ManagerRequest: Sendable {
    public var headers: [ManagerEvent.Field]
    /// The logged-in user's read classes (an action listing events only lists what they may see).
    public var readClasses: EventClass

    public init(headers: [ManagerEvent.Field], readClasses: EventClass = .all) {
        self.headers = headers
        self.readClasses = readClasses
    }

    public var action: String { self["Action"] ?? "" }

    /// The first value of `key`, matched case-insensitively as Asterisk does.
    public subscript(key: String) -> String? {
        headers.first { $0.key.caseInsensitiveCompare(key) == .orderedSame }?.value
    }

    /// Every value of a repeated key (`Variable: a=1`, `Variable: b=2`).
    public func values(_ key: String) -> [String] {
        headers.filter { $0.key.caseInsensitiveCompare(key) == .orderedSame }.map(\.value)
    }
}

/// What an action answers. The AMI target adds `ActionID` and the framing.
public enum ManagerReply: Sendable {
    /// `Response: Success`, an optional `Message:`, then `fields`.
    case success(message: String?, fields: [ManagerEvent.Field] = [])
    /// `Response: Error` with `Message:` saying what was wrong.
    case error(String)
    /// An EventList: `Response: Success` + `EventList: start` + `Message:`, the item events, then
    /// `Event: <completeEvent>` with `EventList: Complete`, `ListItems: n` and `completeFields`.
    case list(message: String, items: [ManagerEvent], completeEvent: String, completeFields: [ManagerEvent.Field] = [])
    /// Command's output (`Response: Success`, `Message: Command output follows`, `Output:` lines).
    case commandOutput([String])
}

/// The actions every subsystem registered, by name (case-insensitive, as AMI matches them).
public final class ManagerActionRegistry: Sendable {
    private let actions = NIOLockedValueBox<[String: ManagerAction]>([:])

    public init() {}

    /// Adds or replaces an action.
    public func register(_ action: ManagerAction) {
        actions.withLockedValue { $0[action.name.lowercased()] = action }
    }

    public func action(named name: String) -> ManagerAction? {
        actions.withLockedValue { $0[name.lowercased()] }
    }

    /// Every action, sorted by name (ListCommands).
    public var all: [ManagerAction] {
        actions.withLockedValue { Array($0.values) }.sorted { $0.name < $1.name }
    }
}
