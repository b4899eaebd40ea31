import IVR
import PBXCore
import RTPMedia

/// The commands that play prompts: STREAM FILE, GET OPTION, GET DATA, SAY DIGITS, SAY NUMBER
/// and SAY ALPHA. None of them answers the channel (a script sends ANSWER first).
enum AGIPlaybackCommands {
    static let all = [streamFile, getOption, getData, sayDigits, sayNumber, sayAlpha]

    /// Every DTMF digit (`GET DATA`'s prompt stops on any).
    static let anyDigit = "0123456789*#ABCD"

    /// `STREAM FILE <file> <escape_digits> [sample_offset]`: `200 result=<digit code or 0>
    /// endpos=<samples>`; `-1` on hangup or a missing file. Sets `PLAYBACKSTATUS` (FAILED when a
    /// digit or hangup stopped it, as res_agi does). The offset is accepted but playback starts
    /// from the beginning of the file (pbxd's prompt player cannot seek yet); endpos then still
    /// counts from the file's start.
    static let streamFile = AGICommand(
        "STREAM FILE", usage: " Usage: STREAM FILE <filename> <escape digits> [sample offset]"
    ) { context, line in
        guard line.words.count >= 4, line.words.count <= 5 else { throw AGIUsageError() }
        if line.words.count == 5 {
            guard let offset = Int(line.words[4]) else { throw AGIUsageError() }
            if offset > 0 { context.execution.logger.notice("AGI STREAM FILE: sample offset \(offset) not supported; playing from the start") }
        }
        let played = await stream(context, file: line.words[2], escapeDigits: line.words[3])
        switch played.result {
        case .missing:
            return .result(-1, "endpos=0", failed: true)
        case .finished:
            context.execution.setVariable("PLAYBACKSTATUS", "SUCCESS")
            return .result(0, "endpos=\(played.endpos)")
        case .interrupted(let digit):
            context.execution.setVariable("PLAYBACKSTATUS", "FAILED")
            return .result(AGITimeouts.code(digit), "endpos=\(played.endpos)")
        case .hungUp:
            context.execution.setVariable("PLAYBACKSTATUS", "FAILED")
            return .result(-1, "endpos=\(played.endpos)", failed: true)
        }
    }

    /// `GET OPTION <file> <escape_digits> [timeout_ms]`: STREAM FILE, then (when no digit
    /// stopped it) waits up to the timeout (default 5 s) for one of the escape digits.
    static let getOption = AGICommand(
        "GET OPTION", usage: " Usage: GET OPTION <filename> <escape_digits> [timeout]"
    ) { context, line in
        guard line.words.count >= 4, line.words.count <= 5 else { throw AGIUsageError() }
        var timeout: Duration = .seconds(5)
        if line.words.count == 5 {
            guard let milliseconds = Int(line.words[4]) else { throw AGIUsageError() }
            timeout = milliseconds > 0 ? .milliseconds(milliseconds) : .seconds(5)
        }
        let escapeDigits = line.words[3]
        let played = await stream(context, file: line.words[2], escapeDigits: escapeDigits)
        switch played.result {
        case .missing: return .result(-1, "endpos=0", failed: true)
        case .hungUp: return .result(-1, "endpos=\(played.endpos)", failed: true)
        case .interrupted(let digit): return .result(AGITimeouts.code(digit), "endpos=\(played.endpos)")
        case .finished:
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                guard let digit = await context.channel.receiveDigit(timeout: deadline - ContinuousClock.now) else { break }
                if escapeDigits.contains(digit) { return .result(AGITimeouts.code(digit), "endpos=\(played.endpos)") }
            }
            if await context.channel.isHungUp { return .result(-1, "endpos=\(played.endpos)", failed: true) }
            return .result(0, "endpos=\(played.endpos)")
        }
    }

    /// `GET DATA <file> [timeout_ms] [maxdigits]` (`ast_app_getdata`): plays the file (any digit
    /// stops it and is the first one entered), then reads digits until `#`, `maxdigits`
    /// (default 1024) or a timeout. With no timeout (or 0) the first digit is awaited 6 s and
    /// the others 2 s; a negative timeout waits forever. `200 result=<digits>`, `200
    /// result=<digits> (timeout)`, or `200 result=-1` on hangup or a missing prompt.
    static let getData = AGICommand("GET DATA", usage: " Usage: GET DATA <file to be streamed> [timeout] [max digits]") { context, line in
        guard line.words.count >= 3, line.words.count <= 5 else { throw AGIUsageError() }
        let timeout = line.words.count >= 4 ? Int(line.words[3]) ?? 0 : 0
        let maxDigits = line.words.count >= 5 ? max(1, Int(line.words[4]) ?? 1024) : 1024
        let (first, next): (Duration, Duration) =
            timeout > 0 ? (.milliseconds(timeout), .milliseconds(timeout))
            : timeout < 0 ? (AGITimeouts.forever, AGITimeouts.forever) : (.seconds(6), .seconds(2))
        let channel = context.channel
        var digits = ""
        var pressed: Character?
        switch await channel.play([line.words[2]], language: context.execution.language, interruptDigits: anyDigit) {
        case .missing, .hungUp: return .result(-1)
        case .interrupted(let digit): pressed = digit
        case .finished: break
        }
        while true {
            if pressed == nil {
                pressed = await channel.receiveDigit(timeout: digits.isEmpty ? first : next)
            }
            guard let digit = pressed else {
                return await channel.isHungUp ? .result(-1) : .result(digits, "(timeout)")
            }
            pressed = nil
            if digit == "#" { return .result(digits) }
            digits.append(digit)
            if digits.count >= maxDigits { return .result(digits) }
        }
    }

    /// `SAY DIGITS <number> <escape_digits>`: each digit spoken; `0`, the code of an escape
    /// digit pressed, or `-1` on hangup.
    static let sayDigits = AGICommand("SAY DIGITS", usage: " Usage: SAY DIGITS <number> <escape digits>") { context, line in
        guard line.words.count == 4 else { throw AGIUsageError() }
        return await say(NumberSpeech.digits(line.words[2]), context, escapeDigits: line.words[3])
    }

    /// `SAY NUMBER <number> <escape_digits> [gender]`: the number in words (English grammar).
    static let sayNumber = AGICommand("SAY NUMBER", usage: " Usage: SAY NUMBER <number> <escape digits> [gender]") { context, line in
        guard line.words.count >= 4, line.words.count <= 5, let number = Int32(line.words[2]) else { throw AGIUsageError() }
        guard let prompts = NumberSpeech.english(Int(number)) else { return .result(-1, failed: true) }
        return await say(prompts, context, escapeDigits: line.words[3])
    }

    /// `SAY ALPHA <string> <escape_digits>`: letters and digits one by one.
    static let sayAlpha = AGICommand("SAY ALPHA", usage: " Usage: SAY ALPHA <number> <escape digits>") { context, line in
        guard line.words.count == 4 else { throw AGIUsageError() }
        return await say(NumberSpeech.characters(line.words[2]), context, escapeDigits: line.words[3])
    }

    /// How a stream ended and the sample position it reached.
    struct Streamed {
        var result: PlaybackResult
        var endpos: Int
    }

    /// Plays one file, measuring how far it got: the file's length when it finished, else the
    /// time it played at 8 kHz (at most the length).
    static func stream(_ context: AGICommandContext, file: String, escapeDigits: String) async -> Streamed {
        let language = context.execution.language
        let length = (try? context.settings.sounds.find(file, language: language, preferring: .wav)?.read())?.sampleCount8k
        let start = ContinuousClock.now
        let result = await context.channel.play([file], language: language, interruptDigits: escapeDigits)
        let elapsed = ContinuousClock.now - start
        let played = Int(elapsed.components.seconds) * 8000 + Int(elapsed.components.attoseconds / 125_000_000_000_000)
        if case .finished = result, let length { return Streamed(result: result, endpos: length) }
        return Streamed(result: result, endpos: min(played, length ?? played))
    }

    private static func say(_ prompts: [String], _ context: AGICommandContext, escapeDigits: String) async -> AGIReply {
        guard !prompts.isEmpty else { return .result(0) }
        switch await context.channel.play(prompts, language: context.execution.language, interruptDigits: escapeDigits) {
        case .finished: return .result(0)
        case .interrupted(let digit): return .result(AGITimeouts.code(digit))
        case .missing(let prompt):
            context.execution.logger.warning("AGI SAY: no sound '\(prompt)' for language '\(context.execution.language)'")
            return .result(-1, failed: true)
        case .hungUp: return .result(-1, failed: true)
        }
    }
}
