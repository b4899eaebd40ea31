/// Prompt sequences for saying numbers, digits and characters with Asterisk's core sound
/// names (`say.c`). Pure functions, so the grammar is tested without a channel.
public enum NumberSpeech {
    /// English cardinal numbers (`ast_say_number_full_en`): `digits/0`…`digits/19`, tens
    /// (`digits/20`…`digits/90`), `digits/hundred`, `digits/thousand`, `digits/million`, with no
    /// "and" (115 → 1, hundred, 15). Negative numbers start with `digits/minus`. Nil above
    /// 999,999,999, which Asterisk refuses too ("too big").
    public static func english(_ number: Int) -> [String]? {
        if number == 0 { return ["digits/0"] }
        if number < 0 {
            guard number > Int.min, let rest = english(-number) else { return nil }
            return ["digits/minus"] + rest
        }
        guard number < 1_000_000_000 else { return nil }
        var prompts: [String] = []
        var rest = number
        if rest >= 1_000_000 {
            prompts += english(rest / 1_000_000)! + ["digits/million"]
            rest %= 1_000_000
        }
        if rest >= 1000 {
            prompts += english(rest / 1000)! + ["digits/thousand"]
            rest %= 1000
        }
        if rest >= 100 {
            prompts += ["digits/\(rest / 100)", "digits/hundred"]
            rest %= 100
        }
        if rest >= 20 {
            prompts.append("digits/\(rest / 10 * 10)")
            rest %= 10
        }
        if rest > 0 { prompts.append("digits/\(rest)") }
        return prompts
    }

    /// `SayDigits`: each digit on its own (`ast_say_digit_str`); `*`, `#` and `-` have their
    /// prompts, anything else is skipped.
    public static func digits(_ text: String) -> [String] {
        text.compactMap { character -> String? in
            switch character {
            case "0"..."9": "digits/\(character)"
            case "*": "digits/star"
            case "#": "digits/pound"
            case "-": "digits/minus"
            default: nil
            }
        }
    }

    /// `SayAlpha` (`ast_say_character_str`): letters as `letters/<lowercase>`, digits as
    /// `digits/N`, and Asterisk's names for the common symbols.
    public static func characters(_ text: String) -> [String] {
        text.compactMap { character -> String? in
            switch character {
            case "0"..."9": return "digits/\(character)"
            case "*": return "digits/star"
            case "#": return "digits/pound"
            case "!": return "letters/exclaimation-point"  // sic: Asterisk's file name
            case "@": return "letters/at"
            case "$": return "letters/dollar"
            case "-": return "letters/dash"
            case ".": return "letters/dot"
            case "=": return "letters/equals"
            case "+": return "letters/plus"
            case "/": return "letters/slash"
            case " ": return "letters/space"
            default:
                guard character.isLetter, character.isASCII else { return nil }
                return "letters/\(character.lowercased())"
            }
        }
    }
}
