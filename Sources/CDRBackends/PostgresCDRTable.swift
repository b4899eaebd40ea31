import PBXCore

/// How a record becomes a row of an Asterisk cdr_pgsql table. Like cdr_pgsql, pbxd reads the
/// table's columns and fills those whose names it knows (`calldate` = start, the Asterisk
/// fields, and CDR variables such as `recordingfile`), leaving the others at their defaults —
/// so an existing Asterisk table works unchanged. Each value is sent as text and cast to the
/// column's own type (`$3::int8`), so integer or text `amaflags`/`disposition` both work.
struct PostgresCDRTable: Sendable, Equatable {
    struct Column: Sendable, Equatable {
        var name: String
        /// `udt_name` from information_schema (`varchar`, `int8`, `timestamptz`…).
        var type: String
        var isNumeric: Bool { ["int2", "int4", "int8", "numeric", "float4", "float8"].contains(type) }
        var isTimestamp: Bool { type.hasPrefix("timestamp") || type == "date" }
    }

    var name: String
    var columns: [Column]

    /// Created when missing: the schema of Asterisk's cdr_pgsql documentation, plus
    /// `recordingfile`, and indexes on calldate and uniqueid (the duplicate check looks rows up
    /// by uniqueid; without the index every insert would scan the table).
    static func createStatements(table: String) -> [String] {
        [createTable(table), "CREATE INDEX \(table)_calldate_idx ON \(table) (calldate)",
         "CREATE INDEX \(table)_uniqueid_idx ON \(table) (uniqueid)"]
    }

    private static func createTable(_ table: String) -> String {
        """
        CREATE TABLE \(table) (
            calldate timestamp with time zone NOT NULL DEFAULT now(),
            clid varchar(80) NOT NULL DEFAULT '',
            src varchar(80) NOT NULL DEFAULT '',
            dst varchar(80) NOT NULL DEFAULT '',
            dcontext varchar(80) NOT NULL DEFAULT '',
            channel varchar(80) NOT NULL DEFAULT '',
            dstchannel varchar(80) NOT NULL DEFAULT '',
            lastapp varchar(80) NOT NULL DEFAULT '',
            lastdata varchar(80) NOT NULL DEFAULT '',
            duration bigint NOT NULL DEFAULT 0,
            billsec bigint NOT NULL DEFAULT 0,
            disposition varchar(45) NOT NULL DEFAULT '',
            amaflags bigint NOT NULL DEFAULT 0,
            accountcode varchar(20) NOT NULL DEFAULT '',
            uniqueid varchar(150) NOT NULL DEFAULT '',
            userfield varchar(255) NOT NULL DEFAULT '',
            peeraccount varchar(20) NOT NULL DEFAULT '',
            linkedid varchar(150) NOT NULL DEFAULT '',
            sequence int NOT NULL DEFAULT 0,
            recordingfile varchar(255) NOT NULL DEFAULT ''
        )
        """
    }

    /// The record's value for a column, as text for `$n::type` (nil: SQL NULL; no entry: the
    /// column is not a CDR field and keeps its default).
    func value(of column: Column, in record: CallDetailRecord) -> String?? {
        func time(_ epoch: Double?) -> String?? {
            guard let epoch else { return .some(nil) }
            return column.isTimestamp ? CDRTimestamp.text(epoch, utc: true) + "+00" : CDRTimestamp.text(epoch, utc: false)
        }
        switch column.name.lowercased() {
        case "calldate", "start": return time(record.start)
        case "answer": return time(record.answer)
        case "end": return time(record.end)
        case "clid": return record.callerID
        case "src": return record.source
        case "dst": return record.destination
        case "dcontext": return record.destinationContext
        case "channel": return record.channel
        case "dstchannel": return record.destinationChannel
        case "lastapp": return record.lastApplication
        case "lastdata": return record.lastData
        case "duration": return String(record.duration)
        case "billsec": return String(record.billableSeconds)
        case "disposition": return column.isNumeric ? String(record.disposition.code) : record.disposition.rawValue
        case "amaflags": return column.isNumeric ? String(record.amaFlags.code) : record.amaFlags.rawValue
        case "accountcode": return record.accountCode
        case "uniqueid": return record.uniqueID
        case "userfield": return record.userField
        case "peeraccount": return record.peerAccount
        case "linkedid": return record.linkedID
        case "sequence": return String(record.sequence)
        default:
            guard let variable = record.variables[column.name.lowercased()] else { return nil }
            return variable
        }
    }

    /// One multi-row `INSERT … SELECT … FROM (VALUES …) WHERE NOT EXISTS (same uniqueid,
    /// sequence, calldate)` for a batch: records that a crash made us send twice (stored
    /// remotely, not yet removed from the spool) land once. The columns are the union of the
    /// batch's; a record without one of its CDR variables sends '' there.
    func insertStatement(for records: [CallDetailRecord]) -> (sql: String, values: [String?]) {
        let used = columns.filter { column in records.contains { value(of: column, in: $0) != nil } }
        var values: [String?] = []
        var rows: [String] = []
        for record in records {
            let placeholders = used.map { column -> String in
                values.append(value(of: column, in: record) ?? "")
                return "$\(values.count)::\(column.type)"
            }
            rows.append("(" + placeholders.joined(separator: ", ") + ")")
        }
        let names = used.map { "\"\($0.name)\"" }.joined(separator: ", ")
        let selected = used.map { "v.\"\($0.name)\"" }.joined(separator: ", ")
        var sql = "INSERT INTO \(name) (\(names)) SELECT \(selected) FROM (VALUES \(rows.joined(separator: ", "))) AS v(\(names))"
        let keys = used.filter { ["uniqueid", "sequence", "calldate"].contains($0.name.lowercased()) }
        if !keys.isEmpty {
            let conditions = keys.map { "c.\"\($0.name)\" = v.\"\($0.name)\"" }.joined(separator: " AND ")
            sql += " WHERE NOT EXISTS (SELECT 1 FROM \(name) c WHERE \(conditions))"
        }
        return (sql, values)
    }
}
