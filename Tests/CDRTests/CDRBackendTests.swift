@testable import CDRBackends
import Foundation
import PBXCore
import Storage
import Testing

@Suite("CDR backends")
struct CDRBackendTests {
    static let record = CallDetailRecord(
        source: "200", destination: "5551234", destinationContext: "from-internal",
        callerID: "\"Alice\" <200>", channel: "PJSIP/200-0000000a", destinationChannel: "PJSIP/trunk-0000000b",
        lastApplication: "Dial", lastData: "PJSIP/5551234@trunk,300,Tt",
        start: 1_718_030_100, answer: 1_718_030_107, end: 1_718_030_172.4, disposition: .answered,
        uniqueID: "1718030100.21", linkedID: "1718030100.21", sequence: 7)

    @Test("Master.csv line: cdr-queue-log.md §3's example, byte for byte (loguniqueid + loguserfield)")
    func csvReferenceLine() {
        var options = CDRConfig.CSVOptions()
        options.useGMTime = true
        options.logUniqueID = true
        options.logUserField = true
        let expected = ##""","200","5551234","from-internal","""Alice"" <200>","PJSIP/200-0000000a","PJSIP/trunk-0000000b","Dial","PJSIP/5551234@trunk,300,Tt","2024-06-10 14:35:00","2024-06-10 14:35:07","2024-06-10 14:36:12",72,65,"ANSWERED","DOCUMENTATION","1718030100.21","""## + "\n"
        let line = CSVBackend.line(for: Self.record, options: options)
        #expect(Array(line.utf8) == Array(expected.utf8), "\(line.debugDescription) vs \(expected.debugDescription)")
    }

    @Test("Master.csv: an unanswered leg has an empty unquoted answer; newcdrcolumns appends peeraccount, linkedid, sequence")
    func csvUnansweredAndNewColumns() {
        var record = Self.record
        record.answer = nil
        record.disposition = .busy
        record.peerAccount = "acct\"x"
        var options = CDRConfig.CSVOptions()
        options.useGMTime = true
        options.newColumns = true
        let line = CSVBackend.line(for: record, options: options)
        #expect(line.contains(#""2024-06-10 14:35:00",,"2024-06-10 14:36:12",72,0,"BUSY","DOCUMENTATION","acct""x","1718030100.21",7"#))
        #expect(line.hasSuffix("7\n"))
    }

    @Test("accountlogs: each record also goes to <accountcode>.csv, but never outside cdr-csv/")
    func accountLogs() throws {
        let directory = NSTemporaryDirectory() + "pbxd-csv-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let backend = try CSVBackend(directory: directory, options: CDRConfig.CSVOptions())
        var sales = Self.record, escape = Self.record, plain = Self.record
        sales.accountCode = "sales"
        escape.accountCode = "../evil"
        plain.accountCode = ""
        try backend.write([sales, escape, plain])
        try backend.write([sales])
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["Master.csv", "sales.csv"])
        let master = try String(contentsOfFile: directory + "/Master.csv", encoding: .utf8)
        let account = try String(contentsOfFile: directory + "/sales.csv", encoding: .utf8)
        #expect(master.split(separator: "\n").count == 4 && account.split(separator: "\n").count == 2)
        #expect(account.hasPrefix(#""sales","200","5551234""#))
    }

    @Test("cdr.conf chooses backends; bad values fail with file:line; the PostgreSQL password is kept, never printed")
    func config() throws {
        let directory = NSTemporaryDirectory() + "pbxd-cdrconf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func write(_ name: String, _ text: String) throws {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        #expect(try CDRConfig.load(directory: directory) == CDRConfig())  // no files: SQLite only
        try write("cdr.conf", "[general]\nenable=yes\nunanswered=yes\nbatch=yes\n[csv]\nloguniqueid=yes\n[sqlite]\nenabled=no\n")
        try write("cdr_manager.conf", "[general]\nenabled = yes\n")
        try write("cdr_pgsql.conf", "[global]\nhostname=127.0.0.1\nport=5433\ndbname=cdrs\nuser=pbx\npassword=s3cret\ntable=calls\n")
        let config = try CDRConfig.load(directory: directory)
        #expect(config.engine.logUnanswered && !config.sqlite && config.manager)
        #expect(config.csv?.logUniqueID == true)
        #expect(config.postgres?.port == 5433 && config.postgres?.table == "calls" && config.postgres?.password == "s3cret")
        #expect(config.warnings.count == 1 && config.warnings[0].contains("cdr.conf:4"))
        #expect(!config.warnings.joined().contains("s3cret"))

        try write("cdr_pgsql.conf", "[global]\ntable=cdr-x\n")
        #expect { try CDRConfig.load(directory: directory) } throws: { "\($0)".contains("cdr_pgsql.conf:2") }
        try write("cdr.conf", "[general]\nenable=maybe\n")
        #expect { try CDRConfig.load(directory: directory) } throws: { "\($0)".contains("cdr.conf:2: enable: expected yes or no") }
    }

    @Test("the service writes each finished call to SQLite, Master.csv and the AMI Cdr event, in order")
    func serviceEndToEnd() async throws {
        let directory = NSTemporaryDirectory() + "pbxd-cdrsvc-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try Storage(directory: directory)
        var config = CDRConfig()
        config.csv = CDRConfig.CSVOptions()
        config.manager = true
        let bus = EventBus()
        let service = try CDRService(config: config, storage: storage, dataDirectory: directory, bus: bus)
        let watcher = bus.subscribe(label: "test")
        let running = Task { await service.run() }

        // Three calls 1001 → 1002: answered, busy, and a cancelled one.
        for (index, status) in ["ANSWER", "BUSY", "CANCEL"].enumerated() {
            for event in CallScript.dial(index: index, status: status) { bus.publish(event) }
        }
        service.shutdown()
        await running.value

        let rows = try storage.readNow { db in
            try Row.fetchAll(db, sql: "SELECT src, dst, channel, dstchannel, disposition, duration, billsec, answer, sequence FROM cdr ORDER BY id")
        }
        #expect(rows.map { $0["disposition"] as String } == ["ANSWERED", "BUSY", "NO ANSWER"])
        #expect(rows.map { $0["dstchannel"] as String } == ["SIP/1002-00000001", "SIP/1002-00000003", "SIP/1002-00000005"])
        #expect(rows.map { $0["duration"] as Int } == [7, 2, 2])
        #expect(rows.map { $0["billsec"] as Int } == [5, 0, 0])
        #expect((rows[1]["answer"] as String?) == nil)
        #expect(service.recordsWritten == 3)

        let csv = try String(contentsOfFile: directory + "/cdr-csv/Master.csv", encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 3)
        for (line, disposition) in zip(lines, ["7,5,\"ANSWERED\"", "2,0,\"BUSY\"", "2,0,\"NO ANSWER\""]) {
            #expect(line.contains(disposition) && line.hasPrefix(#""","1001","1002","internal","""Alice"" <1001>","SIP/1001-"#))
        }

        var cdrEvents: [ManagerEvent] = []
        watcher.cancel()
        for await event in watcher.events where event.name == "Cdr" { cdrEvents.append(event) }
        #expect(cdrEvents.map { $0["Disposition"] } == ["ANSWERED", "BUSY", "NO ANSWER"])
        #expect(cdrEvents.first?.eventClass == .cdr)
    }

    @Test("enable = no: no subscription, no records, and CDR() values are not kept")
    func disabled() async throws {
        let directory = NSTemporaryDirectory() + "pbxd-cdroff-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = CDRConfig()
        config.enabled = false
        let bus = EventBus()
        let service = try CDRService(config: config, storage: try Storage(directory: directory), dataDirectory: directory, bus: bus)
        #expect(bus.subscriberCount == 0)
        service.variables.set("userfield", "x", channel: "1.1")
        #expect(service.variables.count == 0)
        for event in CallScript.dial(index: 0, status: "ANSWER") { bus.publish(event) }
        await service.run()
        #expect(service.recordsWritten == 0)
    }

    @Test("PostgreSQL insert: one statement per batch, known columns only, each cast to its type, duplicates skipped by uniqueid+sequence+calldate")
    func postgresStatement() {
        let columns = [
            ("calldate", "timestamptz"), ("src", "varchar"), ("amaflags", "int8"), ("disposition", "varchar"),
            ("uniqueid", "varchar"), ("sequence", "int4"), ("recordingfile", "varchar"), ("site", "varchar"),
        ]
        let table = PostgresCDRTable(name: "cdr", columns: columns.map { .init(name: $0.0, type: $0.1) })
        var record = Self.record
        record.variables = ["recordingfile": "r.wav"]
        var second = Self.record
        second.sequence = 8
        second.answer = nil
        let (sql, values) = table.insertStatement(for: [record, second])
        #expect(sql == #"INSERT INTO cdr ("calldate", "src", "amaflags", "disposition", "uniqueid", "sequence", "recordingfile") SELECT v."calldate", v."src", v."amaflags", v."disposition", v."uniqueid", v."sequence", v."recordingfile" FROM (VALUES ($1::timestamptz, $2::varchar, $3::int8, $4::varchar, $5::varchar, $6::int4, $7::varchar), ($8::timestamptz, $9::varchar, $10::int8, $11::varchar, $12::varchar, $13::int4, $14::varchar)) AS v("calldate", "src", "amaflags", "disposition", "uniqueid", "sequence", "recordingfile") WHERE NOT EXISTS (SELECT 1 FROM cdr c WHERE c."calldate" = v."calldate" AND c."uniqueid" = v."uniqueid" AND c."sequence" = v."sequence")"#)
        #expect(values == ["2024-06-10 14:35:00+00", "200", "3", "ANSWERED", "1718030100.21", "7", "r.wav",
                           "2024-06-10 14:35:00+00", "200", "3", "ANSWERED", "1718030100.21", "8", ""])
    }
}
