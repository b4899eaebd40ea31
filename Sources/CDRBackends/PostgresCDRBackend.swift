import Foundation
import Logging
import NIOConcurrencyHelpers
import PBXCore
import PostgresNIO
import Storage

/// Delivers spooled CDRs to PostgreSQL (cdr_pgsql.conf). Records reach it only through the
/// `cdr:pgsql` spool in pbxd.sqlite, committed with the SQLite row, so a server that is down
/// or restarting loses nothing: the deliverer sends the spool's head in order, as one
/// multi-row INSERT per batch (atomic), and removes the batch from the spool only after it.
/// A crash between the two resends the batch; the insert skips rows already there (same
/// uniqueid, sequence and calldate), so each record lands once.
public final class PostgresCDRBackend: Sendable {
    public static let spool = DurableQueue(name: "cdr:pgsql")

    private let options: CDRConfig.PostgresOptions
    private let storage: Storage
    private let logger: Logger
    private let wakeUp: AsyncStream<Void>.Continuation
    private let wakeUps: AsyncStream<Void>
    private let batchSize = 200

    public init(options: CDRConfig.PostgresOptions, storage: Storage, logger: Logger) {
        self.options = options
        self.storage = storage
        self.logger = logger
        (wakeUps, wakeUp) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// New records were spooled.
    public func wake() { wakeUp.yield() }

    /// Delivers until cancelled: whenever woken, and every few seconds while the server is
    /// unreachable (backing off from 1 s to 15 s).
    public func run() async {
        var connection: PostgresConnection?
        var table: PostgresCDRTable?
        var retryDelay = Duration.seconds(1)
        var iterator = wakeUps.makeAsyncIterator()
        wake()
        while !Task.isCancelled {
            do {
                if connection == nil || connection!.isClosed {
                    connection = try await connect()
                    table = try await prepareTable(on: connection!)
                    logger.info("CDR PostgreSQL backend connected", metadata: ["host": "\(options.hostname):\(options.port)", "db": "\(options.database)"])
                }
                while try await deliverBatch(on: connection!, table: table!) {}
                retryDelay = .seconds(1)
                _ = await iterator.next()
            } catch is CancellationError {
                break
            } catch {
                logger.warning("CDR PostgreSQL backend unavailable; records stay spooled", metadata: ["error": "\(String(reflecting: error))", "retry": "\(retryDelay)"])
                try? await connection?.close()
                connection = nil
                try? await Task.sleep(for: retryDelay)
                retryDelay = min(retryDelay * 2, .seconds(15))
            }
        }
        try? await connection?.close()
    }

    /// Sends the spool's head; returns whether there may be more.
    private func deliverBatch(on connection: PostgresConnection, table: PostgresCDRTable) async throws -> Bool {
        let entries = try await storage.read { [batchSize] db in try Self.spool.head(limit: batchSize, in: db) }
        guard let last = entries.last else { return false }
        let decoder = JSONDecoder()
        let records = try entries.map { try decoder.decode(CallDetailRecord.self, from: $0.payload) }
        let (sql, values) = table.insertStatement(for: records)
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { binds.append(value) } else { binds.appendNull() }
        }
        // One statement: its own transaction, all rows or none.
        _ = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        try await storage.write { db in try Self.spool.remove(through: last.id, in: db) }
        return entries.count == batchSize
    }

    private func connect() async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: options.hostname, port: options.port, username: options.user,
            password: options.password.isEmpty ? nil : options.password, database: options.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }

    /// Creates the table when missing and reads its columns (cdr_pgsql's column discovery).
    private func prepareTable(on connection: PostgresConnection) async throws -> PostgresCDRTable {
        let table = options.table.lowercased()
        let exists = try await connection.query(
            "SELECT 1 FROM information_schema.tables WHERE table_name = \(table) AND table_schema = current_schema()",
            logger: logger)
        var found = false
        for try await _ in exists { found = true }
        if !found {
            for statement in PostgresCDRTable.createStatements(table: table) {
                _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
        let rows = try await connection.query(
            "SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = \(table) AND table_schema = current_schema() ORDER BY ordinal_position",
            logger: logger)
        var columns: [PostgresCDRTable.Column] = []
        for try await (name, type) in rows.decode((String, String).self) {
            columns.append(.init(name: name, type: type))
        }
        return PostgresCDRTable(name: options.table, columns: columns)
    }
}
