import Dispatch
import Foundation

/// SIGHUP reloads, as `kill -HUP` does for most daemons (and `reload` in systemd units):
/// `handler` runs for each signal, on a queue of its own, for the life of the process.
enum ReloadSignal {
    static func install(_ handler: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "pbxd.sighup"))
        source.setEventHandler(handler: handler)
        source.resume()
        retained.withLock { $0.append(source) }
    }

    /// Keeps the dispatch sources alive (a released source stops delivering).
    private static let retained = LockedSources()
}

/// The installed sources, behind a lock.
private final class LockedSources: @unchecked Sendable {
    // @unchecked Sendable: `sources` is only touched inside `withLock`.
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []

    func withLock(_ body: (inout [any DispatchSourceSignal]) -> Void) {
        lock.withLock { body(&sources) }
    }
}
