/// Asterisk's manager authority classes (ami.md §6.1). Every event on the bus carries the classes
/// that may read it; AMI users' `read`/`write` lists are parsed into the same set, so one type
/// gates both events and actions.
public struct EventClass: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let system = EventClass(rawValue: 1 << 0)
    public static let call = EventClass(rawValue: 1 << 1)
    public static let log = EventClass(rawValue: 1 << 2)
    public static let verbose = EventClass(rawValue: 1 << 3)
    public static let command = EventClass(rawValue: 1 << 4)
    public static let agent = EventClass(rawValue: 1 << 5)
    public static let user = EventClass(rawValue: 1 << 6)
    public static let config = EventClass(rawValue: 1 << 7)
    public static let dtmf = EventClass(rawValue: 1 << 8)
    public static let reporting = EventClass(rawValue: 1 << 9)
    public static let cdr = EventClass(rawValue: 1 << 10)
    public static let dialplan = EventClass(rawValue: 1 << 11)
    public static let originate = EventClass(rawValue: 1 << 12)
    public static let agi = EventClass(rawValue: 1 << 13)
    public static let cc = EventClass(rawValue: 1 << 15)
    public static let aoc = EventClass(rawValue: 1 << 16)
    public static let test = EventClass(rawValue: 1 << 17)
    public static let security = EventClass(rawValue: 1 << 18)
    public static let message = EventClass(rawValue: 1 << 30)
    public static let all = EventClass(rawValue: 0xFFFF_FFFF)

    /// The class names in bit order, as manager.conf and `Privilege:` spell them.
    public static let named: [(name: String, value: EventClass)] = [
        ("system", .system), ("call", .call), ("log", .log), ("verbose", .verbose),
        ("command", .command), ("agent", .agent), ("user", .user), ("config", .config),
        ("dtmf", .dtmf), ("reporting", .reporting), ("cdr", .cdr), ("dialplan", .dialplan),
        ("originate", .originate), ("agi", .agi), ("cc", .cc), ("aoc", .aoc), ("test", .test),
        ("security", .security), ("message", .message),
    ]

    /// Parses `call,agent` (manager.conf `read=`/`write=`, `Events:`): `all` and `on` mean every
    /// class, `none`/`off`/empty none. Returns nil with the first unknown name.
    public static func parse(_ list: String) -> Result<EventClass, UnknownEventClass> {
        var classes: EventClass = []
        for raw in list.split(separator: ",") {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            switch name {
            case "all", "on": classes = .all
            case "none", "off", "": continue
            default:
                guard let match = named.first(where: { $0.name == name }) else { return .failure(UnknownEventClass(name: name)) }
                classes.insert(match.value)
            }
        }
        return .success(classes)
    }

    /// `call,all` as events print it in `Privilege:` (the named classes, then `all`).
    public var privilegeText: String {
        let names = Self.named.filter { contains($0.value) && self != .all }.map(\.name)
        return (names + ["all"]).joined(separator: ",")
    }
}

public struct UnknownEventClass: Error, Equatable, CustomStringConvertible {
    public var name: String
    public var description: String { "unknown permission class '\(name)'" }
}
