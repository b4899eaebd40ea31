import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A local AGI script started by `AGI(/path/script,args)`: its stdin/stdout are the AGI
/// connection, its stderr is pbxd's.
struct AGIProgram: Sendable {
    let processID: pid_t
    let transport: AGIChannelTransport

    /// Tells the script the caller hung up (res_agi sends SIGHUP to local scripts).
    func signalHangup() {
        kill(processID, SIGHUP)
    }

    /// How long a script that closed its stdout may take to exit before pbxd stops waiting.
    static let exitGrace: Duration = .seconds(5)

    /// The script's exit code, or 128 + the signal that killed it (as a shell reports it); nil
    /// when it is still running `exitGrace` after closing its stdout (it is reaped whenever it
    /// exits, and the channel is not held up by it).
    func exitStatusAfterClose() async -> Int32? {
        let resumed = NIOLockedValueBox(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
            @Sendable func resume(_ value: Int32?) {
                guard resumed.withLockedValue({ done in defer { done = true }; return !done }) else { return }
                continuation.resume(returning: value)
            }
            let processID = self.processID
            DispatchQueue.global().async { resume(Self.waitForExit(processID)) }
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(Self.exitGrace.components.seconds))) { resume(nil) }
        }
    }

    /// Blocks until the process exits (call from a dispatch thread, never the cooperative pool).
    private static func waitForExit(_ processID: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(processID, &status, 0) < 0, errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

/// Why a script could not be started (AGISTATUS NOTFOUND vs FAILURE).
enum AGILaunchError: Error, CustomStringConvertible {
    case notFound(String)
    case failed(String)

    var description: String {
        switch self {
        case .notFound(let path): "AGI script \(path) does not exist"
        case .failed(let reason): reason
        }
    }
}

/// Starts local AGI scripts with `posix_spawn` (no fork of the multi-threaded server).
enum AGIProgramLauncher {
    /// A relative name is looked up in `directory` (Asterisk's `agi-bin`).
    static func resolve(_ name: String, directory: String) -> String {
        name.hasPrefix("/") ? name : (directory as NSString).appendingPathComponent(name)
    }

    static func launch(path: String, arguments: [String], group: any EventLoopGroup, logger: Logger) async throws -> AGIProgram {
        guard FileManager.default.fileExists(atPath: path) else { throw AGILaunchError.notFound(path) }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw AGILaunchError.failed("AGI script \(path) is not executable")
        }
        var toScript: [Int32] = [-1, -1]
        var fromScript: [Int32] = [-1, -1]
        guard makePipe(&toScript) else { throw AGILaunchError.failed("pipe: errno \(errno)") }
        guard makePipe(&fromScript) else {
            close(toScript[0]); close(toScript[1])
            throw AGILaunchError.failed("pipe: errno \(errno)")
        }
        let pid: pid_t
        do {
            pid = try spawn(path: path, arguments: arguments, stdin: toScript[0], stdout: fromScript[1])
        } catch {
            for fd in toScript + fromScript { close(fd) }
            throw error
        }
        close(toScript[0])
        close(fromScript[1])
        let (lines, continuation) = AGILineDecoder.makeStream()
        do {
            let channel = try await NIOPipeBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AGILineDecoder(continuation: continuation, logger: logger))
                    }
                }
                .takingOwnershipOfDescriptors(input: fromScript[0], output: toScript[1])
                .get()
            channel.closeFuture.whenComplete { _ in continuation.finish() }
            return AGIProgram(processID: pid, transport: AGIChannelTransport(channel: channel, lines: lines))
        } catch {
            close(fromScript[0]); close(toScript[1])
            kill(pid, SIGHUP)
            throw AGILaunchError.failed("cannot attach to \(path)'s pipes: \(error)")
        }
    }

    /// A pipe whose ends are closed on exec (the script gets its copies through dup2 only).
    private static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// posix_spawn with the script's stdin/stdout on the pipes, default signal handling (pbxd
    /// ignores SIGPIPE; a script must not inherit that) and an empty signal mask.
    private static func spawn(path: String, arguments: [String], stdin: Int32, stdout: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else { throw AGILaunchError.failed("cannot start \(path): \(String(cString: strerror(result)))") }
        return pid
    }
}
