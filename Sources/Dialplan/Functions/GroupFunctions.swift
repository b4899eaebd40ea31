import Foundation

/// Which channels are in which group, per category — Asterisk's `app_group` list, behind
/// `GROUP()`, `GROUP_COUNT()` and `GROUP_LIST()`. Dialplans use it to cap concurrent calls
/// ("no more than 10 calls on this trunk / for this customer").
///
/// One instance for the whole process: pbxd passes the same one to every executor it builds
/// (a dialplan reload must not forget who is in which group). A channel leaves all its groups
/// when its dialplan run ends (`DialplanExecutor.run`), as Asterisk clears them when the
/// channel is destroyed. Group and category names compare case-insensitively, as in Asterisk.
///
/// `@unchecked Sendable` is sound: the only stored state is `memberships`, and every access
/// to it goes through `lock`.
public final class ChannelGroups: @unchecked Sendable {
    private let lock = NSLock()
    /// Channel unique ID → (category in upper case → group as written).
    private var memberships: [String: [String: Membership]] = [:]

    struct Membership {
        var group: String
        var category: String
    }

    public init() {}

    /// Puts the channel in `group` of `category`, leaving the group it had in that category;
    /// an empty `group` only leaves.
    public func set(channel: String, group: String, category: String) {
        lock.withLock {
            var groups = memberships[channel] ?? [:]
            groups[category.uppercased()] = group.isEmpty ? nil : Membership(group: group, category: category)
            memberships[channel] = groups.isEmpty ? nil : groups
        }
    }

    /// The channel's group in `category` ("" is the default category).
    public func group(of channel: String, category: String) -> String? {
        lock.withLock { memberships[channel]?[category.uppercased()]?.group }
    }

    /// How many channels are in `group` of `category`.
    public func count(group: String, category: String) -> Int {
        let group = group.uppercased(), category = category.uppercased()
        return lock.withLock {
            memberships.values.reduce(0) { total, groups in
                total + (groups[category].map { $0.group.uppercased() == group ? 1 : 0 } ?? 0)
            }
        }
    }

    /// `group@category` (or `group` for the default category) for each of the channel's groups.
    public func list(of channel: String) -> [String] {
        lock.withLock {
            (memberships[channel] ?? [:]).values
                .map { $0.category.isEmpty ? $0.group : "\($0.group)@\($0.category)" }
                .sorted()
        }
    }

    /// Takes the channel out of every group (its dialplan run is over).
    public func release(channel: String) {
        lock.withLock { _ = memberships.removeValue(forKey: channel) }
    }

    /// Splits `group@category` (no `@`: the default category).
    static func split(_ text: String) -> (group: String, category: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let at = text.firstIndex(of: "@") else { return (text, "") }
        return (String(text[..<at]), String(text[text.index(after: at)...]))
    }
}

/// `GROUP([category])`, `GROUP_COUNT([group[@category]])`, `GROUP_LIST()` (Asterisk
/// `func_groupcount`).
enum GroupFunctions {
    static let all: [DialplanFunction] = [group, groupCount, groupList]

    /// Read: the channel's group in the category. Write `Set(GROUP(category)=group)`; with no
    /// category the value may be `group@category` itself.
    static let group = DialplanFunction(
        name: "GROUP",
        read: { execution, arguments in
            execution.executor.groups.group(of: execution.channel.uniqueID, category: arguments.trimmingCharacters(in: .whitespaces)) ?? ""
        },
        write: { execution, arguments, value in
            let category = arguments.trimmingCharacters(in: .whitespaces)
            let (group, valueCategory) = ChannelGroups.split(value)
            execution.executor.groups.set(channel: execution.channel.uniqueID, group: group,
                                          category: category.isEmpty ? valueCategory : category)
        }
    )

    /// The number of channels in `group@category`; with no argument, in the channel's own
    /// group of the default category.
    static let groupCount = DialplanFunction(name: "GROUP_COUNT") { execution, arguments in
        var (group, category) = ChannelGroups.split(arguments)
        let groups = execution.executor.groups
        if group.isEmpty {
            guard let own = groups.group(of: execution.channel.uniqueID, category: category) else { return "0" }
            group = own
        }
        return String(groups.count(group: group, category: category))
    }

    /// The channel's groups, space-separated, as `group@category`.
    static let groupList = DialplanFunction(name: "GROUP_LIST") { execution, _ in
        execution.executor.groups.list(of: execution.channel.uniqueID).joined(separator: " ")
    }
}
