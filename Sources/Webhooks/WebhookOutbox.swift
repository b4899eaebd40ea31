import Foundation
import Storage

/// A webhook's durable queue (DESIGN.md §6: "a CRM that is down gets its webhooks later from an
/// outbox, not never"): Storage's `DurableQueue` named `webhook:<name>` in pbxd.sqlite.
///
/// `append` returns once the event's row is committed and fsynced, so an event accepted is
/// never lost, by a crash or a restart. Entries are delivered strictly in append order: the
/// head stays until `markDelivered` removes it, so after a restart delivery resumes where it
/// stopped; an event delivered just before a crash but not yet removed is sent again (at least
/// once — the CRM drops it by its id).
public actor WebhookOutbox {
    public struct Entry: Sendable, Equatable {
        /// The queue position: grows with append order, across restarts.
        public var seq: Int64
        public var id: String
        /// The exact body that is signed and sent.
        public var body: String
    }

    /// What one queue row holds.
    private struct Payload: Codable {
        var id: String
        var body: String
    }

    public nonisolated let queue: DurableQueue
    private let storage: Storage
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Appends committed so far (this run), so `next` never sleeps past one.
    private var appends = 0

    /// Opens webhook `name`'s outbox; events still queued from the last run come first.
    public init(name: String, storage: Storage) throws {
        try storage.install(DurableQueue.schema)
        self.storage = storage
        queue = DurableQueue(name: "webhook:" + name)
    }

    /// Queues a body durably; returns once it is on disk.
    public func append(id: String, body: [UInt8]) async throws {
        let payload = try JSONEncoder().encode(Payload(id: id, body: String(decoding: body, as: UTF8.self)))
        try await storage.write { [queue] db in try queue.enqueue(payload, in: db) }
        appends += 1
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }

    /// The oldest pending entry, waiting for one if there is none. A row that cannot be read
    /// (not written by this code) is removed and reported, so it cannot block the queue.
    public func next() async throws -> Entry {
        while true {
            let appendsBefore = appends
            if let head = try await storage.read({ [queue] db in try queue.head(limit: 1, in: db).first }) {
                guard let payload = try? JSONDecoder().decode(Payload.self, from: head.payload) else {
                    try await storage.write { [queue] db in try queue.remove(through: head.id, in: db) }
                    throw UnreadableEntry(queue: queue.name, seq: head.id)
                }
                return Entry(seq: head.id, id: payload.id, body: payload.body)
            }
            // An append that committed while the read ran may not be in its snapshot: look again.
            if appends == appendsBefore {
                await withCheckedContinuation { waiters.append($0) }
            }
        }
    }

    /// A queue row that is not an outbox entry (edited by hand): dropped.
    public struct UnreadableEntry: Error, CustomStringConvertible {
        public var queue: String
        public var seq: Int64
        public var description: String { "unreadable entry \(seq) in \(queue), dropped" }
    }

    /// Removes `entry` (delivered, or given up): it is never sent again.
    public func markDelivered(_ entry: Entry) async throws {
        try await storage.write { [queue] db in try queue.remove(through: entry.seq, in: db) }
    }

    public func pendingCount() async throws -> Int {
        try await storage.read { [queue] db in try queue.count(in: db) }
    }
}
