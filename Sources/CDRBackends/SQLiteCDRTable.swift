import Foundation
import PBXCore
import Storage

/// The `cdr` table in pbxd.sqlite: Asterisk's realtime column names (cdr-queue-log.md §2.1)
/// plus `recordingfile`. Dates are text `YYYY-MM-DD HH:MM:SS` in local time (or UTC with
/// `usegmtime`), as Asterisk's SQL backends write them; `answer` is NULL when unanswered.
/// Rows are only ever inserted, in the order records were finished.
public enum SQLiteCDRTable {
    public static let schema: StorageSchema = {
        var schema = StorageSchema(name: "cdr")
        schema.migration("cdr.1-create") { db in
            try db.execute(sql: """
                CREATE TABLE cdr (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    accountcode TEXT NOT NULL DEFAULT '',
                    src TEXT NOT NULL DEFAULT '',
                    dst TEXT NOT NULL DEFAULT '',
                    dcontext TEXT NOT NULL DEFAULT '',
                    clid TEXT NOT NULL DEFAULT '',
                    channel TEXT NOT NULL DEFAULT '',
                    dstchannel TEXT NOT NULL DEFAULT '',
                    lastapp TEXT NOT NULL DEFAULT '',
                    lastdata TEXT NOT NULL DEFAULT '',
                    start TEXT NOT NULL,
                    answer TEXT,
                    "end" TEXT NOT NULL,
                    duration INTEGER NOT NULL DEFAULT 0,
                    billsec INTEGER NOT NULL DEFAULT 0,
                    disposition TEXT NOT NULL DEFAULT '',
                    amaflags TEXT NOT NULL DEFAULT 'DOCUMENTATION',
                    userfield TEXT NOT NULL DEFAULT '',
                    uniqueid TEXT NOT NULL DEFAULT '',
                    linkedid TEXT NOT NULL DEFAULT '',
                    peeraccount TEXT NOT NULL DEFAULT '',
                    sequence INTEGER NOT NULL DEFAULT 0,
                    recordingfile TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX cdr_start ON cdr(start);
                CREATE INDEX cdr_uniqueid ON cdr(uniqueid);
                CREATE INDEX cdr_linkedid ON cdr(linkedid);
                """)
        }
        return schema
    }()

    public static func insert(_ record: CallDetailRecord, utc: Bool, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO cdr (accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
                    start, answer, "end", duration, billsec, disposition, amaflags, userfield, uniqueid, linkedid,
                    peeraccount, sequence, recordingfile)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.accountCode, record.source, record.destination, record.destinationContext, record.callerID,
                record.channel, record.destinationChannel, record.lastApplication, record.lastData,
                CDRTimestamp.text(record.start, utc: utc), record.answer.map { CDRTimestamp.text($0, utc: utc) },
                CDRTimestamp.text(record.end, utc: utc), record.duration, record.billableSeconds,
                record.disposition.rawValue, record.amaFlags.rawValue, record.userField, record.uniqueID,
                record.linkedID, record.peerAccount, record.sequence, record.recordingFile,
            ])
    }
}
