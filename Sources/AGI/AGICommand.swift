import Dialplan
import PBXCore

/// One AGI command (`STREAM FILE`, `GET VARIABLE`…): the words that name it, whether it may
/// run after the channel hung up (res_agi's `dead` flag), its usage text for 520, and what it
/// does. The handler reads its arguments at Asterisk's `argv` positions (`words[2]` is the
/// first argument of a two-word command) and throws `AGIUsageError` for bad arguments.
struct AGICommand: Sendable {
    typealias Handler = @Sendable (_ context: AGICommandContext, _ line: AGICommandLine) async throws -> AGIReply

    /// Upper case: `["STREAM", "FILE"]`.
    var words: [String]
    var allowedWhenDead: Bool
    var usage: String
    var handler: Handler

    init(_ name: String, allowedWhenDead: Bool = false, usage: String, handler: @escaping Handler) {
        words = name.split(separator: " ").map { $0.uppercased() }
        self.allowedWhenDead = allowedWhenDead
        self.usage = usage
        self.handler = handler
    }
}

/// A command's arguments were wrong: pbxd answers 520 with the usage text.
struct AGIUsageError: Error {}

/// The commands by name; a line runs the command whose words its first words are (longest
/// name first, case-insensitive).
struct AGICommandTable: Sendable {
    private let commands: [AGICommand]

    init(_ commands: [AGICommand]) {
        self.commands = commands.sorted { $0.words.count > $1.words.count }
    }

    /// Every command pbxd implements.
    static let standard = AGICommandTable(AGIChannelCommands.all + AGIPlaybackCommands.all + AGIDialplanCommands.all)

    func command(for line: AGICommandLine) -> AGICommand? {
        let words = line.words.map { $0.uppercased() }
        return commands.first { command in
            words.count >= command.words.count && Array(words.prefix(command.words.count)) == command.words
        }
    }
}

/// What a command runs against: the channel's dialplan state, pbxd's settings, and the
/// continuation point `SET CONTEXT`/`EXTENSION`/`PRIORITY` asked for. Owned by the channel's
/// task, like `ChannelExecution`.
final class AGICommandContext {
    let execution: ChannelExecution
    let settings: AGISettings
    /// Where the dialplan goes on after the AGI (nil parts: unchanged).
    var continuation: (context: String?, exten: String?, priority: Int?) = (nil, nil, nil)

    init(execution: ChannelExecution, settings: AGISettings) {
        self.execution = execution
        self.settings = settings
    }

    var channel: any CallChannel { execution.channel }

    /// The context and extension the dialplan is at, counting `SET CONTEXT`/`SET EXTENSION`.
    var effectiveContext: String { continuation.context ?? execution.location.context }
    var effectiveExten: String { continuation.exten ?? execution.location.exten }

    /// Applies `SET CONTEXT`/`EXTENSION`/`PRIORITY` as a jump: Asterisk changes the channel's
    /// location in place and its pbx loop then steps to the next priority, unless a priority
    /// was set explicitly (`ast_explicit_goto`).
    func applyContinuation() async throws {
        guard continuation.context != nil || continuation.exten != nil || continuation.priority != nil else { return }
        let priority = continuation.priority ?? execution.location.priority + 1
        try await execution.jump(context: effectiveContext, exten: effectiveExten, priority: String(priority))
    }
}
