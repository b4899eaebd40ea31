import Foundation
import PBXCore

/// cdr.conf, cdr_manager.conf and cdr_pgsql.conf as Asterisk reads them, choosing the backends.
///
/// ```
/// ; cdr.conf
/// [general]
/// enable = yes            ; no: no CDRs at all
/// unanswered = no         ; yes: also log unanswered calls that never rang anyone
/// congestion = no         ; yes: CONGESTION instead of FAILED
///
/// [sqlite]                ; table `cdr` in <datadir>/pbxd.sqlite — on unless enabled = no
/// enabled = yes
///
/// [csv]                   ; <datadir>/cdr-csv/Master.csv — on when this section exists
/// usegmtime = no
/// loguniqueid = no
/// loguserfield = no
/// accountlogs = yes       ; also <accountcode>.csv per account code
/// newcdrcolumns = no      ; append peeraccount, linkedid, sequence
/// ```
/// PostgreSQL is on when cdr_pgsql.conf has a `[global]` section (Asterisk loads cdr_pgsql
/// when its config exists); the AMI `Cdr` event when cdr_manager.conf says `enabled = yes`.
public struct CDRConfig: Sendable, Equatable {
    public var enabled = true
    public var engine = CDREngine.Options()
    public var sqlite = true
    public var csv: CSVOptions?
    public var postgres: PostgresOptions?
    public var manager = false
    public var warnings: [String] = []

    public init() {}

    public struct CSVOptions: Sendable, Equatable {
        public var useGMTime = false
        public var logUniqueID = false
        public var logUserField = false
        public var accountLogs = true
        public var newColumns = false
        public init() {}
    }

    public struct PostgresOptions: Sendable, Equatable {
        public var hostname = "localhost"
        public var port = 5432
        public var database = "asteriskcdrdb"
        public var user = "postgres"
        /// Never logged.
        public var password = ""
        public var table = "cdr"
        public init() {}
    }

    /// Reads the three files from `directory`; each is optional (no cdr.conf: SQLite only).
    public static func load(directory: String) throws(ConfigError) -> CDRConfig {
        func file(_ name: String) throws(ConfigError) -> ConfigFile? {
            let path = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return try ConfigFile.load(path: path)
        }
        return try CDRConfig(cdr: file("cdr.conf"), manager: file("cdr_manager.conf"), pgsql: file("cdr_pgsql.conf"))
    }

    public init(cdr: ConfigFile?, manager managerFile: ConfigFile?, pgsql: ConfigFile?) throws(ConfigError) {
        for section in cdr?.sections ?? [] {
            switch section.name.lowercased() {
            case "general": try readGeneral(section)
            case "sqlite": sqlite = try enabledFlag(section, file: "cdr.conf")
            case "csv": csv = try readCSV(section)
            default: warnings.append("\(section.location): unknown section [\(section.name)] in cdr.conf; ignored")
            }
        }
        for section in managerFile?.sections ?? [] where section.name.lowercased() == "general" {
            manager = try enabledFlag(section, file: "cdr_manager.conf", default: false)
        }
        if let global = pgsql?.section("global") {
            postgres = try readPostgres(global)
        }
    }

    private mutating func readGeneral(_ section: ConfigSection) throws(ConfigError) {
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "enable": enabled = try entry.boolValue()
            case "unanswered": engine.logUnanswered = try entry.boolValue()
            case "congestion": engine.reportCongestion = try entry.boolValue()
            // Asterisk's batch mode trades durability for speed; pbxd batches each commit instead.
            case "batch", "size", "time", "scheduleronly", "safeshutdown", "debug", "channeldefaultenabled",
                 "endbeforehexten", "initiatedseconds", "ignorestatechanges", "ignoredialchanges":
                warnings.append("\(entry.location): cdr.conf \(entry.key) is not supported; ignored")
            default: warnings.append("\(entry.location): unknown option '\(entry.key)' in cdr.conf [general]; ignored")
            }
        }
    }

    private mutating func readCSV(_ section: ConfigSection) throws(ConfigError) -> CSVOptions? {
        var options = CSVOptions()
        var on = true
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "enabled": on = try entry.boolValue()
            case "usegmtime": options.useGMTime = try entry.boolValue()
            case "loguniqueid": options.logUniqueID = try entry.boolValue()
            case "loguserfield": options.logUserField = try entry.boolValue()
            case "accountlogs": options.accountLogs = try entry.boolValue()
            case "newcdrcolumns": options.newColumns = try entry.boolValue()
            default: warnings.append("\(entry.location): unknown option '\(entry.key)' in cdr.conf [csv]; ignored")
            }
        }
        return on ? options : nil
    }

    private mutating func readPostgres(_ section: ConfigSection) throws(ConfigError) -> PostgresOptions? {
        var options = PostgresOptions()
        var on = true
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "enabled": on = try entry.boolValue()
            case "hostname": options.hostname = entry.value
            case "port": options.port = try entry.intValue(in: 1...65535)
            case "dbname": options.database = entry.value
            case "user": options.user = entry.value
            case "password": options.password = entry.value
            case "table":
                guard Self.isPlainIdentifier(entry.value) else {
                    throw ConfigError("table: expected a plain SQL table name (letters, digits, _), found '\(entry.value)'", at: entry.location)
                }
                options.table = entry.value
            case "encoding", "timezone", "appname":
                warnings.append("\(entry.location): cdr_pgsql.conf \(entry.key) is not supported; ignored")
            default: warnings.append("\(entry.location): unknown option '\(entry.key)' in cdr_pgsql.conf [global]; ignored")
            }
        }
        return on ? options : nil
    }

    private mutating func enabledFlag(_ section: ConfigSection, file: String, default value: Bool = true) throws(ConfigError) -> Bool {
        var on = value
        for entry in section.entries {
            if entry.key.lowercased() == "enabled" {
                on = try entry.boolValue()
            } else {
                warnings.append("\(entry.location): unknown option '\(entry.key)' in \(file) [\(section.name)]; ignored")
            }
        }
        return on
    }

    /// The table name goes into SQL text (identifiers can't be bound), so only plain names.
    static func isPlainIdentifier(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 63 && name.first.map { $0.isLetter || $0 == "_" } == true
            && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }
    }
}
