import Dialplan
import PBXCore

/// `Playback` (app_playback) and `Background` (pbx_builtin).
enum PlaybackApplications {
    /// Every DTMF digit: Background stops on any of them (Asterisk's `AST_DIGIT_ANY`).
    static let anyDigit = "0123456789*#ABCD"

    /// `Playback(file[&file2...][,options])`: answers first (unless `noanswer`), plays each
    /// file in turn, not interruptible. With `skip`, a channel that isn't up is left alone.
    /// `PLAYBACKSTATUS` is `FAILED` when any file was missing (it is logged and the others
    /// still play), else `SUCCESS`. A hangup during playback ends the dialplan.
    static let playback = Application(name: "Playback") { execution, data in
        let arguments = ArgumentSplitter.split(data)
        let files = prompts(arguments[0])
        guard !files.isEmpty else {
            execution.logger.warning("Playback requires an argument (filename)", metadata: ["location": "\(execution.location)"])
            return .hangup(nil)
        }
        let options = arguments.dropFirst().joined(separator: ",").lowercased()
        let channel = execution.channel
        if await channel.state != .up {
            if options.contains("skip") {
                execution.setVariable("PLAYBACKSTATUS", "SUCCESS")
                execution.returnedWithoutWaiting()
                return .proceed
            }
            if !options.contains("noanswer") { try await channel.answer() }
        }
        var failed = false
        for file in files {
            switch await channel.play([file], language: execution.language, interruptDigits: "") {
            case .finished, .interrupted:
                continue
            case .missing(let prompt):
                execution.logger.warning("Playback failed on \(channel.name) for \(prompt): no such sound for language '\(execution.language)'")
                failed = true
            case .hungUp:
                execution.setVariable("PLAYBACKSTATUS", failed ? "FAILED" : "SUCCESS")
                return .hangup(nil)
            }
        }
        execution.setVariable("PLAYBACKSTATUS", failed ? "FAILED" : "SUCCESS")
        return .proceed
    }

    /// `Background(file[&file2...][,options[,langoverride[,context]]])`: answers if needed
    /// (option `n`: don't; `s`: skip when not up), plays the files and stops at the first
    /// digit (option `m`: only a digit that is a one-digit extension). After a digit, more are
    /// collected with the inter-digit timeout toward an extension match in `context` (default:
    /// the current one), as Asterisk's pbx loop does; see `ExtensionCollector`. Without a digit
    /// the dialplan goes on (usually to WaitExten). A missing file is logged and ends playback,
    /// and `BACKGROUNDSTATUS` says `FAILED` (else `SUCCESS`).
    static let background = Application(name: "Background") { execution, data in
        let arguments = ArgumentSplitter.split(data)
        let files = prompts(arguments[0])
        guard !files.isEmpty else {
            execution.logger.warning("Background requires an argument (filename)", metadata: ["location": "\(execution.location)"])
            return .hangup(nil)
        }
        let options = arguments.count > 1 ? arguments[1] : ""
        let language = arguments.count > 2 && !arguments[2].isEmpty ? arguments[2] : execution.language
        let context = arguments.count > 3 && !arguments[3].isEmpty ? arguments[3] : execution.location.context
        let channel = execution.channel
        if await channel.state != .up {
            if options.contains("s") {
                execution.returnedWithoutWaiting()
                return .proceed
            }
            if !options.contains("n") { try await channel.answer() }
        }
        var interruptDigits = anyDigit
        if options.contains("m") {
            let callerID = await execution.callerID().number
            interruptDigits = String(anyDigit.filter {
                execution.executor.hasExtension(context: context, exten: String($0), callerID: callerID)
            })
        }
        let result = await channel.play(files, language: language, interruptDigits: interruptDigits)
        if case .missing = result {
            execution.setVariable("BACKGROUNDSTATUS", "FAILED")
        } else {
            execution.setVariable("BACKGROUNDSTATUS", "SUCCESS")
        }
        switch result {
        case .finished:
            return .proceed
        case .missing(let prompt):
            execution.logger.warning("Background: no sound '\(prompt)' for language '\(language)' on \(channel.name)")
            return .proceed
        case .hungUp:
            return .hangup(nil)
        case .interrupted(let digit):
            return try await ExtensionCollector.collectAndRoute(execution, context: context, digits: String(digit))
        }
    }

    /// `a&b&c` → ["a", "b", "c"], dropping empty names.
    static func prompts(_ text: String) -> [String] {
        text.split(separator: "&").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
