import Foundation

/// A channel's variables (Asterisk's `varshead`): written by its own dialplan task and, through
/// AMI Getvar/Setvar/Status, by management tasks at the same time — so they sit behind a lock.
///
/// `@unchecked Sendable` is sound: the only stored state is `entries`, and every access to it
/// goes through `lock`.
final class ChannelVariables: @unchecked Sendable {
    typealias Entry = (value: String, inheritance: VariableInheritance)

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]

    subscript(name: String) -> Entry? {
        get { lock.withLock { entries[name] } }
        set { lock.withLock { entries[name] = newValue } }
    }

    /// A copy of every entry (inheritance, `Status` with `AllVariables`).
    var all: [String: Entry] { lock.withLock { entries } }
}
