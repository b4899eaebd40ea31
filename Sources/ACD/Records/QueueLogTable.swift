import Foundation
import Logging
import PBXCore
import Storage

/// The `queue_log` table of pbxd.sqlite: Asterisk's realtime queue_log columns
/// (cdr-queue-log.md §2.3) — `time` as local `YYYY-MM-DD HH:MM:SS.uuuuuu` text, `callid`,
/// `queuename`, `agent`, `event`, `data1`…`data5` — so reporting tools that read Asterisk's
/// table read this one. Like Asterisk's adaptive realtime, the data fields fill data1..data5
/// and a sixth field onwards stays `|`-joined in data5.
///
/// Writes never make the engine wait: entries are queued on a serial queue and committed in
/// batches, one fsynced transaction per batch (Storage's synchronous=FULL), so a row is durable
/// a few milliseconds after its event; `kill -9` inside that window loses it. A failed commit
/// is logged and retried every second with the entries kept in order.
public final class QueueLogTable: QueueLogSink, @unchecked Sendable {
    // @unchecked Sendable: `pending` and `commitScheduled` are only used on `queue` (serial).
    private let queue = DispatchQueue(label: "pbxd.queue_log.sqlite")
    private let storage: Storage
    private let logger: Logger
    private var pending: [QueueLogEntry] = []
    private var commitScheduled = false

    public static let schema: StorageSchema = {
        var schema = StorageSchema(name: "queue_log")
        schema.migration("queue_log.1-create") { db in
            try db.execute(sql: """
                CREATE TABLE queue_log (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time TEXT NOT NULL,
                    callid TEXT NOT NULL DEFAULT '',
                    queuename TEXT NOT NULL DEFAULT '',
                    agent TEXT NOT NULL DEFAULT '',
                    event TEXT NOT NULL DEFAULT '',
                    data1 TEXT NOT NULL DEFAULT '',
                    data2 TEXT NOT NULL DEFAULT '',
                    data3 TEXT NOT NULL DEFAULT '',
                    data4 TEXT NOT NULL DEFAULT '',
                    data5 TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX queue_log_time ON queue_log(time);
                CREATE INDEX queue_log_callid ON queue_log(callid);
                """)
        }
        return schema
    }()

    /// Creates the table when missing.
    public init(storage: Storage, logger: Logger = Logger(label: "pbxd.acd.queue_log")) throws {
        try storage.install(Self.schema)
        self.storage = storage
        self.logger = logger
    }

    public func write(_ entry: QueueLogEntry) {
        queue.async { [self] in
            pending.append(entry)
            scheduleCommit(after: nil)
        }
    }

    /// Commits everything written so far before returning (shutdown, tests).
    public func flush() {
        queue.sync { commitPending() }
    }

    /// The row's column values in table order after `id`.
    static func columns(_ entry: QueueLogEntry) -> [String] {
        var data = entry.dataFields
        if data.count > 5 { data = Array(data.prefix(4)) + [data.dropFirst(4).joined(separator: "|")] }
        data += Array(repeating: "", count: 5 - data.count)
        return [timestamp(entry.time), entry.callID, entry.queue, entry.agent, entry.event] + data
    }

    /// `YYYY-MM-DD HH:MM:SS.uuuuuu` in local time, as Asterisk's logger writes `time` (the
    /// seconds as the CDR tables write their dates).
    static func timestamp(_ time: Date) -> String {
        let epoch = time.timeIntervalSince1970
        let micros = String(min(Int((epoch - epoch.rounded(.down)) * 1_000_000), 999_999))
        return CDRTimestamp.text(epoch, utc: false) + "." + String(repeating: "0", count: 6 - micros.count) + micros
    }

    /// On `queue`: one commit at a time; entries written meanwhile join the next batch.
    private func scheduleCommit(after delay: Double?) {
        guard !commitScheduled else { return }
        commitScheduled = true
        let run: @Sendable () -> Void = { [self] in
            commitScheduled = false
            commitPending()
        }
        if let delay { queue.asyncAfter(deadline: .now() + delay, execute: run) } else { queue.async(execute: run) }
    }

    /// On `queue`.
    private func commitPending() {
        guard !pending.isEmpty else { return }
        let batch = pending
        do {
            try storage.writeNow { db in
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO queue_log (time, callid, queuename, agent, event, data1, data2, data3, data4, data5)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for entry in batch {
                    try statement.execute(arguments: StatementArguments(Self.columns(entry)))
                }
            }
            pending.removeFirst(batch.count)
        } catch {
            logger.error("cannot write queue_log to pbxd.sqlite; retrying", metadata: ["error": "\(error)", "entries": "\(batch.count)"])
            scheduleCommit(after: 1)
        }
    }
}
