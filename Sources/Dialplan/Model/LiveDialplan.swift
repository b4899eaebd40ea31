import Foundation
import PBXCore

/// The dialplan new calls start in. `dialplan reload` (console, SIGHUP) reads extensions.conf
/// again and swaps the executor whole (DESIGN.md §4): a file with an error changes nothing and
/// says why with file:line; a good one is what the next call gets. Calls already running keep
/// the executor they started with, so a reload never cuts a call off mid-menu.
public final class LiveDialplan: @unchecked Sendable {
    // @unchecked Sendable: `current` is read and written only under `lock`; the rest is immutable.
    private let lock = NSLock()
    private var current: DialplanExecutor
    /// The extensions.conf a reload reads.
    public let path: String

    public init(executor: DialplanExecutor, path: String) {
        self.current = executor
        self.path = path
    }

    /// The executor for a call starting now.
    public var executor: DialplanExecutor { lock.withLock { current } }

    /// Reads `path` again and, when it loads, swaps it in. Its `[globals]` are written over the
    /// running values; globals set at run time (`Set(GLOBAL(x)=…)`) stay, as with Asterisk's
    /// default `clearglobalvars=no`.
    public func reload() -> Result<DialplanReload, ConfigError> {
        let loaded: (dialplan: Dialplan, warnings: [ConfigWarning])
        do {
            loaded = try Dialplan.load(path: path)
        } catch {
            return .failure(error)
        }
        let unknown = lock.withLock { () -> [DialplanPriority] in
            for (name, value) in loaded.dialplan.globals { current.globals[name] = value }
            current.dialplan = loaded.dialplan
            return loaded.dialplan.prioritiesWithUnknownApplications(current.applications)
        }
        let warnings =
            loaded.warnings.map(\.description)
            + unknown.map { "\($0.location): no application '\($0.application)'; a call reaching it hangs up" }
        return .success(DialplanReload(dialplan: loaded.dialplan, warnings: warnings))
    }
}

/// What a successful reload loaded, for the console's answer and the log.
public struct DialplanReload: Sendable {
    public var contexts: Int
    public var extensions: Int
    public var priorities: Int
    public var warnings: [String]

    init(dialplan: Dialplan, warnings: [String]) {
        contexts = dialplan.contexts.count
        extensions = dialplan.contexts.values.reduce(0) { $0 + $1.extensions.count }
        priorities = dialplan.contexts.values.reduce(0) { total, context in
            total + context.extensions.reduce(0) { $0 + $1.priorities.count }
        }
        self.warnings = warnings
    }

    public var summary: String {
        "Dialplan reloaded: \(contexts) contexts, \(extensions) extensions, \(priorities) priorities."
    }
}
