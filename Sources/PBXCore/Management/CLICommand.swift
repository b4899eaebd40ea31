import NIOConcurrencyHelpers

/// A console command with Asterisk's name (`queue show`, `sip show peers`, `dialplan reload`),
/// run by `pbxd -rx "…"` over the control socket and by AMI's `Command` action alike. Each
/// subsystem registers its own; the registry finds the longest matching word prefix.
public struct CLICommand: Sendable {
    /// The command's fixed words, e.g. `["queue", "show"]`; the rest of the line are arguments.
    public var words: [String]
    /// One line for `core show help`.
    public var summary: String
    public var handler: @Sendable (_ arguments: [String]) async -> CLIResult

    public init(_ words: String, summary: String, handler: @escaping @Sendable (_ arguments: [String]) async -> CLIResult) {
        self.words = words.split(separator: " ").map { $0.lowercased() }
        self.summary = summary
        self.handler = handler
    }
}

/// A command's text output and whether it succeeded (`pbxd -rx` exits non-zero when not).
public struct CLIResult: Sendable, Equatable {
    public var lines: [String]
    public var succeeded: Bool

    public init(lines: [String], succeeded: Bool = true) {
        self.lines = lines
        self.succeeded = succeeded
    }

    public static func failure(_ line: String) -> CLIResult { CLIResult(lines: [line], succeeded: false) }
}

/// Every registered console command.
public final class CLICommandRegistry: Sendable {
    private let commands = NIOLockedValueBox<[CLICommand]>([])

    public init() {}

    public func register(_ command: CLICommand) {
        commands.withLockedValue { list in
            list.removeAll { $0.words == command.words }
            list.append(command)
        }
    }

    /// Runs one command line; an unknown command answers as Asterisk's console does.
    public func run(_ line: String) async -> CLIResult {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let lowered = words.map { $0.lowercased() }
        let match = commands.withLockedValue { list in
            list.filter { lowered.starts(with: $0.words) }.max { $0.words.count < $1.words.count }
        }
        guard let match else {
            return .failure("No such command '\(line.trimmingCharacters(in: .whitespaces))' (type 'core show help \(words.first ?? "")' for other possible commands)")
        }
        return await match.handler(Array(words.dropFirst(match.words.count)))
    }

    /// `core show help`: every command with its summary, sorted.
    public var help: [String] {
        commands.withLockedValue { $0 }
            .sorted { $0.words.joined(separator: " ") < $1.words.joined(separator: " ") }
            .map { $0.words.joined(separator: " ").padding(toLength: 30, withPad: " ", startingAt: 0) + " " + $0.summary }
    }
}
