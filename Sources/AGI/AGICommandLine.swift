/// One command line from an AGI script, split into words the way res_agi's `parse_args` does:
/// spaces and tabs separate words, double quotes group a word that contains spaces (`""` is an
/// empty word: "no escape digits"), and `\` makes the next character literal.
struct AGICommandLine: Equatable {
    /// The words, quotes and escapes removed.
    var words: [String]
    /// The line as received (AMI's `Command:` field).
    var text: String

    /// res_agi's `MAX_ARGS`: words beyond it are dropped, as Asterisk does.
    static let maximumWords = 128

    init(_ text: String) {
        self.text = text
        var words: [String] = []
        var current = ""
        var inWord = false
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                inWord = true
                escaped = false
                continue
            }
            switch character {
            case "\\":
                escaped = true
            case "\"":
                quoted.toggle()
                inWord = true
            case " " where !quoted, "\t" where !quoted:
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        self.words = Array(words.prefix(Self.maximumWords))
    }

    /// The word at `index`, or nil when the line is shorter.
    subscript(index: Int) -> String? {
        index < words.count ? words[index] : nil
    }
}
