import Dialplan
import PBXCore
import RTPMedia

/// `SayDigits`, `SayNumber`, `SayAlpha` (pbx_builtin): not interruptible, they don't answer,
/// and they use the channel's `LANGUAGE()`.
enum SayApplications {
    /// `SayDigits(digits)`
    static let sayDigits = Application(name: "SayDigits") { execution, data in
        await say(NumberSpeech.digits(data), execution, application: "SayDigits")
    }

    /// `SayNumber(number[,gender])`: English grammar for now (the gender argument matters only
    /// to languages pbxd has no grammar for yet); another language uses the English sequence
    /// with its own prompt files.
    static let sayNumber = Application(name: "SayNumber") { execution, data in
        let arguments = ArgumentSplitter.split(data)
        let text = arguments[0].trimmingCharacters(in: .whitespaces)
        guard let number = Int32(text).map(Int.init) else {
            execution.logger.warning("SayNumber: '\(text)' must be a number between -2147483648 and 2147483647")
            execution.returnedWithoutWaiting()
            return .proceed
        }
        guard let prompts = NumberSpeech.english(number) else {
            execution.logger.warning("SayNumber: number '\(number)' is too big to say")
            execution.returnedWithoutWaiting()
            return .proceed
        }
        return await say(prompts, execution, application: "SayNumber")
    }

    /// `SayAlpha(string)`
    static let sayAlpha = Application(name: "SayAlpha") { execution, data in
        await say(NumberSpeech.characters(data), execution, application: "SayAlpha")
    }

    private static func say(_ prompts: [String], _ execution: ChannelExecution, application: String) async -> ApplicationResult {
        guard !prompts.isEmpty else {
            execution.returnedWithoutWaiting()
            return .proceed
        }
        switch await execution.channel.play(prompts, language: execution.language, interruptDigits: "") {
        case .finished, .interrupted:
            return .proceed
        case .missing(let prompt):
            execution.logger.warning("\(application): no sound '\(prompt)' for language '\(execution.language)'; stopped")
            return .proceed
        case .hungUp:
            return .hangup(nil)
        }
    }
}
