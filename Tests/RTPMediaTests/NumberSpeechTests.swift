import Testing
import RTPMedia

@Suite struct NumberSpeechTests {
    @Test(arguments: [
        (0, ["digits/0"]),
        (7, ["digits/7"]),
        (15, ["digits/15"]),
        (20, ["digits/20"]),
        (42, ["digits/40", "digits/2"]),
        (100, ["digits/1", "digits/hundred"]),
        (115, ["digits/1", "digits/hundred", "digits/15"]),
        (1999, ["digits/1", "digits/thousand", "digits/9", "digits/hundred", "digits/90", "digits/9"]),
        (2024, ["digits/2", "digits/thousand", "digits/20", "digits/4"]),
        (1_000_000, ["digits/1", "digits/million"]),
        (12_345_678, ["digits/12", "digits/million", "digits/3", "digits/hundred", "digits/40", "digits/5",
                      "digits/thousand", "digits/6", "digits/hundred", "digits/70", "digits/8"]),
        (-3, ["digits/minus", "digits/3"]),
    ])
    func englishNumbers(number: Int, prompts: [String]) {
        #expect(NumberSpeech.english(number) == prompts)
    }

    @Test func numbersAsteriskCannotSayAreRefused() {
        #expect(NumberSpeech.english(1_000_000_000) == nil)
        #expect(NumberSpeech.english(999_999_999)?.first == "digits/9")
    }

    @Test func charactersAndDigits() {
        #expect(NumberSpeech.characters("a1#") == ["letters/a", "digits/1", "digits/pound"])
        #expect(NumberSpeech.characters("Z*@ .") == ["letters/z", "digits/star", "letters/at", "letters/space", "letters/dot"])
        #expect(NumberSpeech.digits("12*#x-") == ["digits/1", "digits/2", "digits/star", "digits/pound", "digits/minus"])
    }
}
