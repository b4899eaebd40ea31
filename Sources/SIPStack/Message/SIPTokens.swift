/// Random tokens for SIP tags, branches and Call-IDs (RFC 3261 §19.3: at least 32 bits of
/// randomness; we use 64+).
public enum SIPTokens {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    public static func random(length: Int = 16) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    public static func tag() -> String { random(length: 12) }
    public static func branch() -> String { Via.magicCookie + random(length: 16) }
    public static func callID(host: String) -> String { random(length: 24) + "@" + host }
}
