/// Call-progress tones per country, as tone lists in `indications.conf` syntax (values as in
/// Asterisk's sample indications.conf, ITU-T E.180 supplement). `Playtones(busy)` looks the name
/// up for the channel's country.
public struct ToneSet: Sendable {
    public let country: String
    public let description: String
    /// Ring cadence of a phone's bell, ms on/off.
    public let ringCadence: [Int]
    /// Tone name (`dial`, `ring`, `busy`, `congestion`) → tone list.
    public let tones: [String: String]

    /// The named tone's plan; nil when the set has no such tone.
    public func plan(_ name: String) -> TonePlan? {
        guard let list = self.tones[name.lowercased()] else { return nil }
        return try? TonePlan(parsing: list)
    }

    /// The built-in sets, by lowercase country code.
    public static let builtIn: [String: ToneSet] = {
        var sets: [String: ToneSet] = [:]
        func add(_ code: String, _ description: String, cadence: [Int], dial: String, ring: String, busy: String, congestion: String) {
            sets[code] = ToneSet(
                country: code, description: description, ringCadence: cadence,
                tones: ["dial": dial, "ring": ring, "busy": busy, "congestion": congestion])
        }
        add("us", "United States / North America", cadence: [2000, 4000],
            dial: "350+440", ring: "440+480/2000,0/4000", busy: "480+620/500,0/500", congestion: "480+620/250,0/250")
        add("uk", "United Kingdom", cadence: [400, 200, 400, 2000],
            dial: "350+440", ring: "400+450/400,0/200,400+450/400,0/2000", busy: "400/375,0/375",
            congestion: "400/400,0/350,400/225,0/525")
        add("de", "Germany", cadence: [1000, 4000],
            dial: "425", ring: "425/1000,0/4000", busy: "425/480,0/480", congestion: "425/240,0/240")
        add("fr", "France", cadence: [1500, 3500],
            dial: "440", ring: "440/1500,0/3500", busy: "440/500,0/500", congestion: "440/250,0/250")
        add("ru", "Russian Federation", cadence: [1000, 4000],
            dial: "425", ring: "425/1000,0/4000", busy: "425/350,0/350", congestion: "425/175,0/175")
        add("nl", "Netherlands", cadence: [1000, 4000],
            dial: "425", ring: "425/1000,0/4000", busy: "425/500,0/500", congestion: "425/250,0/250")
        add("it", "Italy", cadence: [1000, 4000],
            dial: "425/200,0/200,425/600,0/1000", ring: "425/1000,0/4000", busy: "425/500,0/500",
            congestion: "425/200,0/200")
        return sets
    }()

    /// The country used when none is configured (Asterisk's `[general] country=us`).
    public static let defaultCountry = "us"

    /// What `Playtones(arg)` plays: a tone name of `country`'s set (falling back to `us` for an
    /// unknown country), else `arg` parsed as a tone list.
    public static func resolve(_ arg: String, country: String) throws(TonePlan.ParseError) -> TonePlan {
        let set = Self.builtIn[country.lowercased()] ?? Self.builtIn[Self.defaultCountry]!
        if let plan = set.plan(arg.trimmingCharacters(in: .whitespaces)) { return plan }
        return try TonePlan(parsing: arg)
    }
}
