import Foundation
import Logging

/// One queue_log line (cdr-queue-log.md §4): `epoch|callid|queue|agent|event|data1|data2…`.
public struct QueueLogEntry: Sendable, Equatable {
    public var time: Date
    /// The caller's Uniqueid, or `NONE`/`MANAGER`/`CLI` for member changes.
    public var callID: String
    public var queue: String
    /// Member name, or `NONE`.
    public var agent: String
    public var event: String
    public var data: [String]

    public init(time: Date, callID: String, queue: String, agent: String = "NONE", event: String, data: [String] = []) {
        self.time = time
        self.callID = callID
        self.queue = queue
        self.agent = agent
        self.event = event
        self.data = data
    }

    /// The line as Asterisk writes it (no newline). The data part is always present, so an
    /// event without data ends with `|`.
    public var line: String {
        let epoch = Int64(time.timeIntervalSince1970.rounded(.down))
        return ([String(epoch), callID, queue, agent, event] + dataFields).joined(separator: "|")
    }

    /// The data part as written: at least one (possibly empty) field, values cleaned.
    var dataFields: [String] { data.isEmpty ? [""] : data.map(Self.clean) }

    /// A `|` or newline inside a value would break the line's fields.
    private static func clean(_ value: String) -> String {
        String(value.map { $0 == "|" ? "_" : ($0 == "\n" || $0 == "\r" ? " " : $0) })
    }
}

/// Where queue_log entries go: the file, the SQLite table, both (`QueueLogSinks`), a test's list.
public protocol QueueLogSink: Sendable {
    func write(_ entry: QueueLogEntry)
}

/// `<datadir>/queue_log`, appended line by line as Asterisk's logger does. Writes happen on a
/// serial queue so the engine never waits for the disk.
public final class QueueLogFile: QueueLogSink, @unchecked Sendable {
    // @unchecked Sendable: `handle` is only used on `queue` (a serial DispatchQueue).
    private let queue = DispatchQueue(label: "pbxd.queue_log")
    private let handle: FileHandle
    private let logger: Logger

    public init(path: String, logger: Logger = Logger(label: "pbxd.acd.queue_log")) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        self.logger = logger
    }

    public func write(_ entry: QueueLogEntry) {
        let data = Data((entry.line + "\n").utf8)
        queue.async { [handle, logger] in
            do {
                try handle.write(contentsOf: data)
            } catch {
                logger.error("cannot write queue_log", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Waits until every line written so far is on disk (shutdown, tests).
    public func flush() {
        queue.sync { try? handle.synchronize() }
    }
}

/// Several sinks fed the same entries in order: pbxd writes every line to the file and to the
/// `queue_log` table.
public struct QueueLogSinks: QueueLogSink {
    public let sinks: [any QueueLogSink]

    public init(_ sinks: [any QueueLogSink]) {
        self.sinks = sinks
    }

    public func write(_ entry: QueueLogEntry) {
        for sink in sinks { sink.write(entry) }
    }
}
