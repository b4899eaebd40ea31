import Dispatch
import Foundation

/// Suspends until SIGTERM or SIGINT arrives (Ctrl-C, `kill`, systemd stop) and reports which.
enum SignalWaiter {
    static func waitForTermination() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let queue = DispatchQueue(label: "pbxd.signals")
            let once = ResumeOnce(continuation)
            var sources: [any DispatchSourceSignal] = []
            for signalNumber in [SIGTERM, SIGINT] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                source.setEventHandler { once.resume(signalNumber) }
                source.resume()
                sources.append(source)
            }
            // Keep the sources alive for the life of the process.
            SignalSources.keep(sources)
        }
    }
}

/// Resumes a continuation at most once, even if both signals arrive.
private final class ResumeOnce: @unchecked Sendable {
    // @unchecked Sendable: `continuation` is read and cleared only on the serial signal queue.
    private var continuation: CheckedContinuation<Int32, Never>?
    init(_ continuation: CheckedContinuation<Int32, Never>) { self.continuation = continuation }
    func resume(_ value: Int32) {
        continuation?.resume(returning: value)
        continuation = nil
    }
}

private enum SignalSources {
    nonisolated(unsafe) static var retained: [any DispatchSourceSignal] = []
    static func keep(_ sources: [any DispatchSourceSignal]) { retained.append(contentsOf: sources) }
}
