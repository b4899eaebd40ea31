import Foundation
import Storage
import Testing
@testable import ACD

@Suite struct QueueLogTableTests {
    private func rows(_ storage: Storage) throws -> [[String]] {
        try storage.readNow { db in
            try Row.fetchAll(db, sql: """
                SELECT time, callid, queuename, agent, event, data1, data2, data3, data4, data5 FROM queue_log ORDER BY id
                """).map { row in (0..<10).map { row[$0] as String } }
        }
    }

    @Test func everyLineGoesToTheFileAndTheTableInOrder() throws {
        let directory = NSTemporaryDirectory() + "queue-log-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let time = Date(timeIntervalSince1970: 1_795_306_651.25)
        let entries = [
            QueueLogEntry(time: time, callID: "1795306679.1", queue: "600", event: "ENTERQUEUE", data: ["", "5550101", "1"]),
            QueueLogEntry(time: time, callID: "1795306679.1", queue: "600", agent: "SIP/811", event: "CONNECT",
                          data: ["14", "1795306680.1", "2"]),
            QueueLogEntry(time: time, callID: "NONE", queue: "600", agent: "SIP/811", event: "PAUSE"),
            QueueLogEntry(time: time, callID: "MANAGER", queue: "600", event: "CUSTOM", data: ["a|b", "2", "3", "4", "5", "6", "7"]),
        ]
        do {
            let storage = try Storage(directory: directory)
            let file = try QueueLogFile(path: directory + "/queue_log")
            let table = try QueueLogTable(storage: storage)
            let sinks = QueueLogSinks([file, table])
            for entry in entries { sinks.write(entry) }
            file.flush()
            table.flush()
            let lines = try String(contentsOfFile: directory + "/queue_log", encoding: .utf8)
            #expect(lines == entries.map { $0.line + "\n" }.joined())
        }
        // A fresh Storage on the same file (a restarted pbxd, sqlite3) reads the rows.
        let stamp = QueueLogTable.timestamp(time)
        #expect(try rows(Storage(directory: directory)) == [
            [stamp, "1795306679.1", "600", "NONE", "ENTERQUEUE", "", "5550101", "1", "", ""],
            [stamp, "1795306679.1", "600", "SIP/811", "CONNECT", "14", "1795306680.1", "2", "", ""],
            [stamp, "NONE", "600", "SIP/811", "PAUSE", "", "", "", "", ""],
            // Beyond five fields the rest stays joined in data5, as Asterisk's realtime does.
            [stamp, "MANAGER", "600", "NONE", "CUSTOM", "a_b", "2", "3", "4", "5|6|7"],
        ])
    }

    @Test func timeIsLocalTextWithMicroseconds() {
        let time = Date(timeIntervalSince1970: 1_795_306_651.123456)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let stamp = QueueLogTable.timestamp(time)
        #expect(stamp.hasPrefix(formatter.string(from: time) + "."))
        let micros = Int(stamp.split(separator: ".").last ?? "") ?? -1
        #expect(abs(micros - 123_456) <= 1)
        #expect(QueueLogTable.timestamp(Date(timeIntervalSince1970: 1_795_306_651)).hasSuffix(".000000"))
    }

    @Test func anEngineCallIsInTheTable() async throws {
        let directory = NSTemporaryDirectory() + "queue-log-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try Storage(directory: directory)
        let table = try QueueLogTable(storage: storage)
        let f = try EngineFixture(QueueEngineTests.queue("linear", members: ["811"]), queueLog: table)
        var c1 = try await f.join(1)
        _ = await c1.ring()
        f.clock.advance(4)
        await f.serve(1, by: "SIP/811", talk: 95)
        table.flush()
        let events = try rows(storage).map { [$0[1], $0[3], $0[4]] }
        #expect(events == [
            ["1795306679.1", "NONE", "ENTERQUEUE"], ["1795306679.1", "SIP/811", "CONNECT"], ["1795306679.1", "SIP/811", "COMPLETECALLER"],
        ])
    }
}
