import Foundation

/// A webhook's durable queue (DESIGN.md §6: "a CRM that is down gets its webhooks later from an
/// outbox, not never"), kept as two append-only files in its own directory:
///
/// - `outbox.jsonl`: one line per event, `{"seq":…,"id":…,"body":…}`, the exact body that is
///   signed and sent; fsync'd before `append` returns, so an event accepted is never lost.
/// - `delivered.log`: the ids delivered (or given up), one per line, fsync'd likewise.
///
/// On start the pending events are those of the first file not in the second, in `seq` order,
/// so a restart resumes where delivery stopped; an event delivered just before a crash but not
/// yet logged is sent again (at least once — the CRM drops it by its id). Once nothing is
/// pending, both files are emptied. The Storage target's SQLite outbox replaces this when it
/// lands (issue 6); the format is small enough to import.
public actor WebhookOutbox {
    public struct Entry: Sendable, Equatable, Codable {
        public var seq: Int
        public var id: String
        public var body: String
    }

    public nonisolated let directory: String
    private var pending: [Entry] = []
    private var nextSeq = 1
    private let outbox: FileHandle
    private let delivered: FileHandle
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let outboxPath = directory + "/outbox.jsonl", deliveredPath = directory + "/delivered.log"
        for path in [outboxPath, deliveredPath] where !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil)
        }
        let done = Set(try String(contentsOfFile: deliveredPath, encoding: .utf8).split(separator: "\n").map(String.init))
        var entries: [Entry] = []
        for line in try String(contentsOfFile: outboxPath, encoding: .utf8).split(separator: "\n") {
            // A line cut short by a crash mid-write was never acknowledged: skip it.
            guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(line.utf8)) else { continue }
            entries.append(entry)
        }
        pending = entries.filter { !done.contains($0.id) }.sorted { $0.seq < $1.seq }
        nextSeq = (entries.map(\.seq).max() ?? 0) + 1
        outbox = try FileHandle(forWritingTo: URL(fileURLWithPath: outboxPath))
        delivered = try FileHandle(forWritingTo: URL(fileURLWithPath: deliveredPath))
        try outbox.seekToEnd()
        try delivered.seekToEnd()
    }

    /// Queues a body durably; returns once it is on disk.
    public func append(id: String, body: [UInt8]) throws {
        let entry = Entry(seq: nextSeq, id: id, body: String(decoding: body, as: UTF8.self))
        nextSeq += 1
        var line = try JSONEncoder().encode(entry)
        line.append(UInt8(ascii: "\n"))
        try outbox.write(contentsOf: line)
        try outbox.synchronize()
        pending.append(entry)
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }

    /// The oldest pending entry, waiting for one if there is none.
    public func next() async -> Entry {
        while pending.isEmpty {
            await withCheckedContinuation { waiters.append($0) }
        }
        return pending[0]
    }

    /// Records that `id` needs no more attempts; empties the files when nothing is pending.
    public func markDelivered(_ id: String) throws {
        try delivered.write(contentsOf: Data((id + "\n").utf8))
        try delivered.synchronize()
        pending.removeAll { $0.id == id }
        if pending.isEmpty {
            try outbox.truncate(atOffset: 0)
            try delivered.truncate(atOffset: 0)
            try outbox.synchronize()
            try delivered.synchronize()
        }
    }

    public var pendingCount: Int { pending.count }
}
