import RTPMedia

/// The prompt sequences app_queue plays, with Asterisk's sound names (`queue-thereare`,
/// `queue-youarenext`, `digits/N`…). Pure functions, so the wording is tested without media.
enum QueuePrompts {
    /// The agent's number spoken digit by digit: `811` → digits/8, digits/1, digits/1.
    static func digits(_ text: String) -> [String] {
        NumberSpeech.digits(text.filter { $0.isASCII && $0.isNumber })
    }

    /// A count (position, minutes, seconds) as Asterisk says it in English: 115 → 1, hundred, 15.
    static func number(_ value: Int) -> [String] {
        NumberSpeech.english(value) ?? digits(String(value))
    }

    /// Before the bridge, to the caller: `agent-id-prompt` then the agent's digits.
    static func agentID(prompt: String, number: String) -> [String] {
        [prompt] + digits(number)
    }

    /// app_queue's `say_position`: "you are next" at position 1, else "you are caller number
    /// N waiting"; then the estimated hold time in minutes when enabled; then "thank you".
    /// Nil when there is nothing to say (position beyond `announce-position-limit` and no hold time).
    static func position(_ position: Int, holdTime: Int, settings: QueueSettings, includeHoldTime: Bool) -> [String]? {
        var prompts: [String] = []
        switch settings.announcePosition {
        case .no:
            break
        case .limit where position > settings.announcePositionLimit:
            break
        case .more where position > settings.announcePositionLimit:
            prompts += ["queue-thereare", "queue-less-than"] + number(settings.announcePositionLimit) + ["queue-callswaiting"]
        default:
            prompts += position == 1 ? ["queue-youarenext"] : ["queue-thereare"] + number(position) + ["queue-callswaiting"]
        }
        if includeHoldTime, holdTime > 0 {
            let minutes = (holdTime + 59) / 60
            prompts += ["queue-holdtime"]
            prompts += minutes <= 1 ? ["queue-less-than"] + number(1) + ["queue-minute"] : number(minutes) + ["queue-minutes"]
        }
        guard !prompts.isEmpty else { return nil }
        return prompts + ["queue-thankyou"]
    }

    /// To the member who answered, before the bridge: the queue's `announce`, then with
    /// `reportholdtime` "hold time N minutes" (or seconds under a minute).
    static func toAgent(settings: QueueSettings, holdTime: Int) -> [String] {
        var prompts: [String] = settings.announce.map { [$0] } ?? []
        if settings.reportHoldTime {
            prompts.append("queue-reporthold")
            prompts += holdTime < 60 ? number(holdTime) + ["queue-seconds"] : number(holdTime / 60) + [holdTime / 60 == 1 ? "queue-minute" : "queue-minutes"]
        }
        return prompts
    }
}
