import Foundation
import PBXCore

/// The commands that act on the call itself: ANSWER, HANGUP, CHANNEL STATUS, WAIT FOR DIGIT
/// and RECORD FILE (res_agi's handlers of the same names).
enum AGIChannelCommands {
    static let all = [answer, hangup, channelStatus, waitForDigit, recordFile]

    /// `ANSWER`: `200 result=0`, or `-1` when the answer failed.
    static let answer = AGICommand("ANSWER", usage: " Usage: ANSWER") { context, _ in
        guard await context.channel.state != .up else { return .result(0) }
        do {
            try await context.channel.answer()
            return .result(0)
        } catch {
            context.execution.logger.warning("AGI ANSWER failed: \(error)")
            return .result(-1, failed: true)
        }
    }

    /// `HANGUP [channelname]`: hangs this channel up (`200 result=1`); another channel's name
    /// answers `-1` (pbxd's AGI reaches only the channel it runs on).
    static let hangup = AGICommand("HANGUP", usage: " Usage: HANGUP [<channelname>]") { context, line in
        if let name = line[1], name != context.channel.name { return .result(-1) }
        await context.channel.hangup(cause: .normalClearing)
        return .result(1)
    }

    /// `CHANNEL STATUS [channelname]`: the Asterisk state number (6 = up); `-1` for another
    /// channel's name.
    static let channelStatus = AGICommand("CHANNEL STATUS", usage: " Usage: CHANNEL STATUS [<channelname>]") { context, line in
        if let name = line[2], name != context.channel.name { return .result(-1) }
        return .result(await context.channel.state.rawValue)
    }

    /// `WAIT FOR DIGIT <timeout_ms>` (-1: forever): the digit's ASCII code, 0 on timeout, -1 on
    /// hangup.
    static let waitForDigit = AGICommand("WAIT FOR DIGIT", usage: " Usage: WAIT FOR DIGIT <timeout>") { context, line in
        guard line.words.count == 4, let milliseconds = Int(line.words[3]) else { throw AGIUsageError() }
        let channel = context.channel
        if let digit = await channel.receiveDigit(timeout: AGITimeouts.duration(milliseconds: milliseconds)) {
            return .result(AGITimeouts.code(digit))
        }
        return await channel.isHungUp ? .result(-1, failed: true) : .result(0)
    }

    /// `RECORD FILE <file> <format> <escape_digits> <timeout_ms> [offset_samples] [BEEP]
    /// [s=<silence_s>]`: records the caller into `<file>.<format>` (only `wav`; a relative name
    /// goes under `<datadir>/recordings/`) until an escape digit (`result=<code> (dtmf)`), the
    /// timeout or silence (`result=0 (timeout)`), or hangup (`result=-1 (hangup)`), each with
    /// `endpos=<samples recorded>`. The offset (appending at a position) is not supported: the
    /// file is written from its start.
    static let recordFile = AGICommand(
        "RECORD FILE",
        usage: " Usage: RECORD FILE <filename> <format> <escape digits> <timeout> [offset samples] [BEEP] [s=silence]"
    ) { context, line in
        guard line.words.count >= 6, let milliseconds = Int(line.words[5]) else { throw AGIUsageError() }
        let format = line.words[3]
        var base = line.words[2]
        if !base.hasPrefix("/") { base = (context.settings.recordingsDirectory as NSString).appendingPathComponent(base) }
        let path = base + "." + format
        guard format.lowercased() == "wav" else {
            context.execution.logger.warning("AGI RECORD FILE: format '\(format)' is not supported (only wav)")
            return .result(-1, "(writefile)", failed: true)
        }
        var silence: Duration?
        var beep = false
        for option in line.words.dropFirst(6) {
            if option.lowercased().hasPrefix("s="), let seconds = Int(option.dropFirst(2)), seconds > 0 {
                silence = .seconds(seconds)
            } else if Int(option) == nil, !option.contains("=") {
                beep = true
            }
        }
        let channel = context.channel
        if beep, case .hungUp = await channel.play(["beep"], language: context.execution.language, interruptDigits: "") {
            return .result(-1, "(hangup) endpos=0", failed: true)
        }
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            context.execution.logger.warning("AGI RECORD FILE: cannot create the directory for \(path): \(error)")
            return .result(-1, "(writefile)", failed: true)
        }
        let outcome = await channel.record(
            RecordingRequest(
                path: path, silence: silence, maxDuration: milliseconds > 0 ? .milliseconds(milliseconds) : nil,
                terminators: line.words[4]))
        let endpos = "endpos=\(recordedSamples(path))"
        switch outcome {
        case .dtmf(let digit): return .result(AGITimeouts.code(digit), "(dtmf) " + endpos)
        case .timeout, .silence: return .result(0, "(timeout) " + endpos)
        case .hungUp: return .result(-1, "(hangup) " + endpos, failed: true)
        case .error(let reason):
            context.execution.logger.warning("AGI RECORD FILE: \(reason)")
            return .result(-1, "(writefile)", failed: true)
        }
    }

    /// 16-bit mono samples in a WAV file (its size after the 44-byte header).
    static func recordedSamples(_ path: String) -> Int {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        return max(0, ((size ?? 44) - 44) / 2)
    }
}

/// Time arguments and digit results shared by the commands.
enum AGITimeouts {
    /// What `-1` ("forever") means: longer than any call.
    static let forever: Duration = .seconds(365 * 24 * 3600)

    /// Milliseconds from a command; negative waits forever.
    static func duration(milliseconds: Int) -> Duration {
        milliseconds < 0 ? forever : .milliseconds(milliseconds)
    }

    /// A digit as AGI reports it: its ASCII code (`1` → 49, `#` → 35).
    static func code(_ digit: Character) -> Int { Int(digit.asciiValue ?? 0) }
}
