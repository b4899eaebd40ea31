import Foundation
import Logging
import NIOConcurrencyHelpers
import PBXCore
import Storage

/// Runs the CDR engine on the event bus and hands finished records to the backends chosen in
/// cdr.conf (DESIGN.md §2.6, §6).
///
/// Two tasks, so the bus reader never waits on a disk: the *reader* feeds every event to the
/// engine and queues finished records; the *writer* takes everything queued and commits it in
/// one SQLite transaction — the `cdr` row and, for PostgreSQL, a spool entry — fsynced
/// (Storage's synchronous=FULL) before the records count as done. Then it appends the CSV
/// lines (fsynced), publishes the AMI `Cdr` events and wakes the PostgreSQL deliverer.
/// Under a burst one commit carries many records, so the fsync cost is shared.
///
/// A record exists on disk a few milliseconds after its channel's `Hangup` event: `kill -9`
/// inside that window loses it (the engine's in-flight state is memory only).
public final class CDRService: Sendable {
    private let config: CDRConfig
    private let storage: Storage
    private let csv: CSVBackend?
    private let postgres: PostgresCDRBackend?
    private let bus: EventBus
    public let variables: CDRVariableStore
    private let logger: Logger
    private let pending = NIOLockedValueBox<[CallDetailRecord]>([])
    private let recordsReady: AsyncStream<Void>.Continuation
    private let readySignals: AsyncStream<Void>
    private let written = NIOLockedValueBox(0)
    private let stopping = NIOLockedValueBox(false)
    /// The current bus subscription: taken at init so no event published after start-up is
    /// missed; nil when CDRs are disabled.
    private let subscription: NIOLockedValueBox<EventSubscription?>

    /// Opens the backends (creating the `cdr` table and the spool) or fails with the reason.
    public init(config: CDRConfig, storage: Storage, dataDirectory: String, bus: EventBus,
                variables: CDRVariableStore? = nil, logger: Logger = Logger(label: "pbxd.cdr")) throws {
        self.config = config
        self.storage = storage
        self.bus = bus
        self.variables = variables ?? CDRVariableStore(enabled: config.enabled)
        self.logger = logger
        try storage.install(SQLiteCDRTable.schema)
        try storage.install(DurableQueue.schema)
        csv = try config.csv.map { try CSVBackend(directory: (dataDirectory as NSString).appendingPathComponent("cdr-csv"), options: $0) }
        postgres = config.postgres.map { PostgresCDRBackend(options: $0, storage: storage, logger: logger) }
        (readySignals, recordsReady) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        subscription = NIOLockedValueBox(config.enabled ? bus.subscribe(label: "cdr", capacity: 100_000) : nil)
    }

    /// Records committed so far (tests, metrics).
    public var recordsWritten: Int { written.withLockedValue { $0 } }

    /// Runs until `shutdown()`: events already published when it is called are still turned
    /// into records and written before `run` returns.
    public func run() async {
        guard subscription.withLockedValue({ $0 }) != nil else { return }
        let delivery = postgres.map { postgres in Task { await postgres.run() } }
        async let writer: Void = writeRecords()
        await readEvents()
        recordsReady.finish()
        await writer
        await writePending()
        delivery?.cancel()
        await delivery?.value
    }

    /// Stops reading the bus (what was already published is still recorded) so `run` returns.
    public func shutdown() {
        let current = subscription.withLockedValue { subscription -> EventSubscription? in
            stopping.withLockedValue { $0 = true }
            return subscription
        }
        current?.cancel()
    }

    /// Feeds the bus to the engine until `shutdown()`. If the bus cuts the reader off (it fell
    /// 100,000 events behind), the records of calls in flight then are lost — logged — and a
    /// new subscription keeps later calls recorded.
    private func readEvents() async {
        var engine = CDREngine(options: config.engine, variables: variables)
        while let current = subscription.withLockedValue({ $0 }) {
            for await event in current.events {
                let records = engine.handle(event)
                guard !records.isEmpty else { continue }
                pending.withLockedValue { $0 += records }
                recordsReady.yield()
            }
            let resumed = subscription.withLockedValue { subscription -> Bool in
                guard !stopping.withLockedValue({ $0 }) else { return false }
                subscription = bus.subscribe(label: "cdr", capacity: 100_000)
                return true
            }
            guard resumed else { return }
            logger.error("CDR engine was cut off the event bus (it fell behind); records of calls in progress then are lost, later calls are recorded")
            engine = CDREngine(options: config.engine, variables: variables, firstSequence: engine.nextSequenceNumber)
        }
    }

    private func writeRecords() async {
        for await _ in readySignals {
            await writePending()
        }
    }

    /// Commits every queued record; on a storage error keeps them queued and retries.
    private func writePending() async {
        while true {
            let batch = pending.withLockedValue { queued -> [CallDetailRecord] in
                defer { queued = [] }
                return queued
            }
            guard !batch.isEmpty else { return }
            do {
                try await commit(batch)
            } catch {
                logger.error("CDR write failed; retrying", metadata: ["error": "\(error)", "records": "\(batch.count)"])
                pending.withLockedValue { $0 = batch + $0 }
                if Task.isCancelled { return }
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            publish(batch)
        }
    }

    private func commit(_ batch: [CallDetailRecord]) async throws {
        let sqlite = config.sqlite, spooled = postgres != nil
        let payloads = spooled ? try batch.map { try JSONEncoder().encode($0) } : []
        try await storage.write { db in
            for record in batch where sqlite {
                try SQLiteCDRTable.insert(record, utc: false, in: db)
            }
            for payload in payloads {
                try PostgresCDRBackend.spool.enqueue(payload, in: db)
            }
        }
        written.withLockedValue { $0 += batch.count }
        do {
            try csv?.write(batch)
        } catch {
            logger.error("CDR CSV write failed; these records are in SQLite only", metadata: ["error": "\(error)"])
        }
    }

    private func publish(_ batch: [CallDetailRecord]) {
        postgres?.wake()
        guard config.manager else { return }
        for record in batch { bus.publish(record.managerEvent()) }
    }
}
