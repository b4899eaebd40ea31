import Foundation
import Logging

/// What a restart keeps: every member (dynamic ones are re-added, static ones get back their
/// pause and statistics) and each queue's statistics.
public struct SavedQueueState: Sendable, Codable, Equatable {
    public var members: [String: [QueueMember]]
    public var statistics: [String: QueueStatistics]
}

/// `<datadir>/queues.json`: the ACD's persistent state, rewritten atomically after each change
/// on a background queue (the engine never waits for the disk). A SQLite table replaces it when
/// the Storage target lands.
public final class QueueStateStore: Sendable {
    public let path: String
    private let queue = DispatchQueue(label: "pbxd.acd.state")

    public init(directory: String) {
        path = (directory as NSString).appendingPathComponent("queues.json")
    }

    /// The saved state, or nil when there is none. A corrupt file is logged and ignored (the
    /// members then start as queues.conf says), never a reason not to start.
    func load(logger: Logger) -> SavedQueueState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(SavedQueueState.self, from: data)
        } catch {
            logger.error("cannot read saved queue state; starting from queues.conf", metadata: ["file": "\(path)", "error": "\(error)"])
            return nil
        }
    }

    func save(_ state: SavedQueueState, logger: Logger) {
        let path = self.path
        queue.async {
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try encoder.encode(state).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                logger.error("cannot save queue state", metadata: ["file": "\(path)", "error": "\(error)"])
            }
        }
    }

    /// Waits for pending writes (shutdown, tests).
    public func flush() { queue.sync {} }
}
