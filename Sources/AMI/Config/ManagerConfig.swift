import Foundation
import PBXCore

/// One manager.conf user (`[admin]` section): its secret, what it may read and do, where it
/// may log in from, and the event filters copied into each of its sessions.
public struct ManagerUser: Sendable {
    public var name: String
    /// Never logged; compared on Login (plain) or hashed with the challenge (MD5).
    public var secret: String
    /// Event classes its sessions may receive (`read=`).
    public var read: EventClass
    /// Action classes it may use (`write=`).
    public var write: EventClass
    /// `permit=`/`deny=` in order; empty allows every address.
    public var acl: IPAccessList
    public var eventFilters: EventFilterSet
    public var location: SourceLocation

    public init(name: String, secret: String, read: EventClass = [], write: EventClass = [], acl: IPAccessList = IPAccessList(),
                eventFilters: EventFilterSet = EventFilterSet(), location: SourceLocation) {
        self.name = name
        self.secret = secret
        self.read = read
        self.write = write
        self.acl = acl
        self.eventFilters = eventFilters
        self.location = location
    }
}

/// manager.conf (ami.md §1, §5, §6), Asterisk's syntax:
///
/// ```
/// [general]
/// enabled = yes
/// port = 5038
/// bindaddr = 127.0.0.1
/// timestampevents = no      ; Timestamp: on every event
/// displayconnects = yes     ; log each login/logoff
/// authtimeout = 30          ; seconds an unauthenticated session may stay
/// authlimit = 50            ; unauthenticated sessions at once
///
/// [admin]
/// secret = ...
/// read = all
/// write = all
/// deny = 0.0.0.0/0.0.0.0
/// permit = 127.0.0.1/255.255.255.255
/// eventfilter = !Event: VarSet
/// ```
/// Unknown keys warn with file:line; invalid values stop start-up with file:line.
public struct ManagerConfig: Sendable {
    public var enabled = false
    public var port = 5038
    public var bindAddress = "0.0.0.0"
    public var timestampEvents = false
    public var displayConnects = true
    public var authTimeout: Duration = .seconds(30)
    public var authLimit = 50
    /// Users by name (lower-case: Asterisk matches usernames case-insensitively).
    public var users: [String: ManagerUser] = [:]
    public var warnings: [ConfigWarning] = []

    public init() {}

    public static func load(path: String) throws(ConfigError) -> ManagerConfig {
        try ManagerConfig(try ConfigFile.load(path: path))
    }

    public init(_ file: ConfigFile) throws(ConfigError) {
        for section in file.sections {
            if section.name.lowercased() == "general" {
                try applyGeneral(section)
            } else if let user = try user(from: section) {
                users[user.name.lowercased()] = user
            }
        }
    }

    public func user(named name: String) -> ManagerUser? { users[name.lowercased()] }

    private mutating func applyGeneral(_ section: ConfigSection) throws(ConfigError) {
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "enabled": enabled = try entry.boolValue()
            case "port": port = try entry.intValue(in: 1...65535)
            case "bindaddr":
                guard IPAddress(entry.value) != nil else { throw entry.rejected("expected an IP address") }
                bindAddress = entry.value
            case "timestampevents": timestampEvents = try entry.boolValue()
            case "displayconnects": displayConnects = try entry.boolValue()
            case "authtimeout": authTimeout = .seconds(try entry.intValue(in: 1...3600))
            case "authlimit": authLimit = try entry.intValue(in: 1...10_000)
            case "webenabled", "httptimeout", "allowmultiplelogin", "debug", "channelvars", "tlsenable", "tlsbindaddr",
                 "tlscertfile", "tlsprivatekey", "displaysystemname", "brokeneventsaction":
                warnings.append(ConfigWarning("manager.conf option '\(entry.key)' is not supported by pbxd; ignored", at: entry.location))
            default:
                warnings.append(ConfigWarning("unknown option '\(entry.key)' in manager.conf [general]; ignored", at: entry.location))
            }
        }
    }

    /// A `[user]` section; nil (with a warning) for a user without a secret, who could never
    /// log in anyway.
    private mutating func user(from section: ConfigSection) throws(ConfigError) -> ManagerUser? {
        var user = ManagerUser(name: section.name, secret: "", location: section.location)
        var hasSecret = false
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "secret":
                user.secret = entry.value
                hasSecret = !entry.value.isEmpty
            case "read": user.read = try Self.classes(entry)
            case "write": user.write = try Self.classes(entry)
            case "permit", "deny":
                let sense: IPAccessList.Sense = entry.key.lowercased() == "permit" ? .permit : .deny
                guard user.acl.append(sense, entry.value) else { throw entry.rejected("expected an address or network (a.b.c.d/mask)") }
            case "eventfilter":
                guard let filter = EventFilter(entry.value) else { throw entry.rejected("expected a regular expression that compiles") }
                user.eventFilters.add(filter)
            case "displayconnects", "writetimeout", "allowmultiplelogin", "acl", "setvar", "channelvars", "timestampevents":
                warnings.append(ConfigWarning("manager.conf option '\(entry.key)' is not supported per user by pbxd; ignored", at: entry.location))
            default:
                warnings.append(ConfigWarning("unknown option '\(entry.key)' for manager user '\(section.name)'; ignored", at: entry.location))
            }
        }
        guard hasSecret else {
            warnings.append(ConfigWarning("manager user '\(section.name)' has no secret and cannot log in; skipped", at: section.location))
            return nil
        }
        return user
    }

    private static func classes(_ entry: ConfigEntry) throws(ConfigError) -> EventClass {
        switch EventClass.parse(entry.value) {
        case .success(let classes): return classes
        case .failure(let unknown): throw ConfigError("\(entry.key): \(unknown)", at: entry.location)
        }
    }
}

extension ConfigEntry {
    /// A ConfigError naming the key, what was expected and what was found.
    fileprivate func rejected(_ expectation: String) -> ConfigError {
        ConfigError("\(key): \(expectation), found '\(value)'", at: location)
    }
}
