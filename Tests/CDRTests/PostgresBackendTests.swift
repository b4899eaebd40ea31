import CDRBackends
import Foundation
import Logging
import PBXCore
import Storage
import Testing

/// Against a real PostgreSQL started by the test (skipped, with the reason printed, where none
/// can start): rows arrive; while the server is stopped they wait in the spool and arrive
/// after it restarts, once each and in order; a spool entry delivered twice lands once.
@Suite("CDR PostgreSQL backend", .serialized)
struct PostgresBackendTests {
    @Test("spool replay across a server stop: every record once, in order")
    func spoolReplay() async throws {
        let server: LocalPostgres
        switch LocalPostgres.make() {
        case .success(let started): server = started
        case .failure(let reason):
            print("SKIPPED CDR PostgreSQL test: \(reason)")
            return
        }
        defer { server.close() }
        let directory = NSTemporaryDirectory() + "pbxd-cdrpg-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try Storage(directory: directory)
        var config = CDRConfig()
        var postgres = CDRConfig.PostgresOptions()
        postgres.hostname = "127.0.0.1"
        postgres.port = server.port
        postgres.database = "postgres"
        postgres.user = "postgres"
        config.postgres = postgres
        let bus = EventBus()
        var logger = Logger(label: "test.cdr")
        logger.logLevel = .critical
        let service = try CDRService(config: config, storage: storage, dataDirectory: directory, bus: bus, logger: logger)
        let running = Task { await service.run() }
        let query = "SELECT uniqueid || ',' || sequence || ',' || disposition || ',' || billsec FROM cdr ORDER BY calldate, sequence"

        for event in CallScript.dial(index: 0, status: "ANSWER") { bus.publish(event) }
        let first = try await server.waitForRows(query, count: 1, timeout: .seconds(20))
        #expect(first.count == 1 && first.first?.hasSuffix(",ANSWERED,5") == true, "\(first)")

        try server.stop()
        for (index, status) in ["BUSY", "ANSWER", "CANCEL"].enumerated() {
            for event in CallScript.dial(index: index + 1, status: status) { bus.publish(event) }
        }
        // Committed locally, waiting in the spool while the server is down.
        try await waitUntil(timeout: .seconds(10)) {
            try storage.readNow { db in try PostgresCDRBackend.spool.count(in: db) } == 3
        }
        try await Task.sleep(for: .seconds(1.5))  // the deliverer has failed at least once
        try server.start()
        let all = try await server.waitForRows(query, count: 4, timeout: .seconds(30))
        try await Task.sleep(for: .seconds(1))
        let settled = try server.query(query)
        let local = try storage.readNow { db in try String.fetchAll(db, sql: "SELECT uniqueid FROM cdr ORDER BY id") }
        #expect(all.count == 4)
        #expect(settled.map { String($0.split(separator: ",")[0]) } == local, "PostgreSQL: \(settled), SQLite: \(local)")
        #expect(settled.map { String($0.split(separator: ",")[2]) } == ["ANSWERED", "BUSY", "ANSWERED", "NO ANSWER"])
        #expect(try storage.readNow { db in try PostgresCDRBackend.spool.count(in: db) } == 0)

        // A crash after PostgreSQL's COMMIT but before the spool removal resends a batch: simulate
        // it by spooling an already delivered record again; it must not be inserted twice.
        let again = try await storage.read { db in
            try String.fetchOne(db, sql: "SELECT uniqueid FROM cdr ORDER BY id LIMIT 1")!
        }
        #expect(again == local[0])
        service.shutdown()
        await running.value
        let duplicate = CallDetailRecordFixture.delivered(from: CallScript.dial(index: 0, status: "ANSWER"))
        try storage.writeNow { db in try PostgresCDRBackend.spool.enqueue(try JSONEncoder().encode(duplicate), in: db) }
        let restarted = try CDRService(config: config, storage: storage, dataDirectory: directory, bus: EventBus(), logger: logger)
        let rerun = Task { await restarted.run() }
        try await waitUntil(timeout: .seconds(15)) {
            try storage.readNow { db in try PostgresCDRBackend.spool.count(in: db) } == 0
        }
        restarted.shutdown()
        await rerun.value
        #expect(try server.query(query).count == 4)
    }

    func waitUntil(timeout: Duration, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("condition not met within \(timeout)")
    }
}

/// The record the engine builds from a scripted call (what the service would have spooled).
enum CallDetailRecordFixture {
    static func delivered(from events: [ManagerEvent]) -> CallDetailRecord {
        var engine = CDREngine()
        return events.flatMap { engine.handle($0) }[0]
    }
}
