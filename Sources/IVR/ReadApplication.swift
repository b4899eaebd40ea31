import Dialplan
import PBXCore

/// `Read(variable[,filename[&filename2...][,maxdigits[,options[,attempts[,timeout]]]]])`
/// (app_read).
enum ReadApplication {
    /// What `ast_readstring` returned for one attempt.
    enum Outcome: Equatable {
        /// The terminator was pressed or `maxdigits` reached.
        case complete(String)
        case timeout(String)
        case hungUp(String)
    }

    /// Options: `s` skip (READSTATUS=SKIPPED) when the channel isn't up, `n` read without
    /// answering, `i` the prompt is an indication tone (tones aren't supported yet: the prompt
    /// is skipped with a log line and digits are still read), `t(chars)` terminators instead of
    /// `#` (bare `t`: none).
    struct Options: Equatable {
        var skipUnlessUp = false
        var noAnswer = false
        var indication = false
        var terminators = "#"

        init(_ text: String) {
            var index = text.startIndex
            while index < text.endIndex {
                let option = text[index]
                index = text.index(after: index)
                switch option {
                case "s": skipUnlessUp = true
                case "n": noAnswer = true
                case "i": indication = true
                case "t":
                    terminators = ""
                    if index < text.endIndex, text[index] == "(", let close = text[index...].firstIndex(of: ")") {
                        terminators = String(text[text.index(after: index)..<close])
                        index = text.index(after: close)
                    }
                default: continue
                }
            }
        }
    }

    /// Plays the prompts (any digit interrupts and starts the input), then reads up to
    /// `maxdigits` digits (0 or empty: up to 255, ended by the terminator). The first digit
    /// after the prompt is awaited for `TIMEOUT(response)`, later ones for `TIMEOUT(digit)`;
    /// a `timeout` argument sets both. With nothing entered it tries again, `attempts` times
    /// in all. Sets the variable and `READSTATUS` (OK, TIMEOUT, HANGUP, SKIPPED, ERROR).
    static let read = Application(name: "Read") { execution, data in
        var arguments = ArgumentSplitter.split(data)
        while arguments.count < 6 { arguments.append("") }
        let variable = arguments[0].trimmingCharacters(in: .whitespaces)
        guard !variable.isEmpty else {
            execution.logger.warning("Read requires a variable name", metadata: ["location": "\(execution.location)"])
            execution.setVariable("READSTATUS", "ERROR")
            execution.returnedWithoutWaiting()
            return .proceed
        }
        let files = PlaybackApplications.prompts(arguments[1])
        var maxDigits = Int(arguments[2].trimmingCharacters(in: .whitespaces)) ?? 0
        if maxDigits <= 0 || maxDigits > 255 { maxDigits = 255 }
        let options = Options(arguments[3])
        let attempts = max(1, Int(arguments[4].trimmingCharacters(in: .whitespaces)) ?? 1)
        let fixedTimeout = IVRTimeouts.seconds(arguments[5])

        let channel = execution.channel
        if await channel.state != .up {
            if options.skipUnlessUp {
                try await execution.assign(variable, value: "")
                execution.setVariable("READSTATUS", "SKIPPED")
                execution.returnedWithoutWaiting()
                return .proceed
            }
            if !options.noAnswer { try await channel.answer() }
        }
        if options.indication {
            execution.logger.notice("Read: indication tones (option i) are not supported; reading without a prompt")
        }
        let firstTimeout = fixedTimeout ?? IVRTimeouts.response(execution)
        let digitTimeout = fixedTimeout ?? IVRTimeouts.digit(execution)

        var status = "ERROR"
        var value = ""
        for attempt in 1...attempts {
            let outcome = await readOnce(
                execution, prompts: options.indication ? [] : files, maxDigits: maxDigits,
                terminators: options.terminators, firstTimeout: firstTimeout, digitTimeout: digitTimeout)
            switch outcome {
            case .complete(let digits): status = "OK"; value = digits
            case .timeout(let digits): status = "TIMEOUT"; value = digits
            case .hungUp(let digits): status = "HANGUP"; value = digits
            }
            if status == "HANGUP" || !value.isEmpty { break }
            if attempt < attempts {
                execution.logger.info("Read: user entered nothing, \(attempts - attempt) chance(s) left")
            }
        }
        try await execution.assign(variable, value: value)
        execution.setVariable("READSTATUS", status)
        execution.logger.debug("Read: \(variable)='\(value)', READSTATUS=\(status)")
        return status == "HANGUP" ? .hangup(nil) : .proceed
    }

    /// One attempt: `ast_app_getdata_terminator` + `ast_readstring`.
    static func readOnce(_ execution: ChannelExecution, prompts: [String], maxDigits: Int, terminators: String,
                         firstTimeout: Duration, digitTimeout: Duration) async -> Outcome {
        let channel = execution.channel
        var digits = ""
        var first: Character?
        for prompt in prompts {
            switch await channel.play([prompt], language: execution.language, interruptDigits: PlaybackApplications.anyDigit) {
            case .finished: continue
            case .missing(let name):
                execution.logger.warning("Read: no sound '\(name)' for language '\(execution.language)'; skipped")
                continue
            case .hungUp: return .hungUp("")
            case .interrupted(let digit): first = digit
            }
            break
        }
        var timeout = firstTimeout
        while true {
            let pressed: Character
            if let digit = first {
                pressed = digit
                first = nil
            } else {
                guard let digit = await channel.receiveDigit(timeout: timeout) else {
                    return await channel.isHungUp ? .hungUp(digits) : .timeout(digits)
                }
                pressed = digit
            }
            if terminators.contains(pressed) { return .complete(digits) }
            digits.append(pressed)
            if digits.count >= maxDigits { return .complete(digits) }
            timeout = digitTimeout
        }
    }
}
