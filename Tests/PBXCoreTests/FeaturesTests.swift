import Foundation
import Testing
@testable import PBXCore

@Suite("features.conf")
struct FeaturesConfigTests {
    static func parse(_ text: String) throws -> FeaturesConfig {
        try FeaturesConfig(try ConfigFile.parse(text, fileName: "features.conf"))
    }

    @Test func theSampleFileParsesWithoutWarnings() throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../conf/features.conf").path
        let config = try FeaturesConfig.load(path: sample)
        #expect(config.codes == ["#": .blindTransfer, "*0": .disconnect, "*2": .attendedTransfer])
        #expect(config.warnings.isEmpty)
    }

    @Test func defaultsAreAsterisks() throws {
        let config = try Self.parse("")
        #expect(config.codes == ["#": .blindTransfer, "*": .disconnect])
        #expect(config.transferDigitTimeout == .seconds(3))
        #expect(config.featureDigitTimeout == .milliseconds(1000))
        #expect(config.warnings.isEmpty)
    }

    @Test func readsTimeoutsAndFeatureMap() throws {
        let config = try Self.parse("""
            [general]
            transferdigittimeout => 5
            featuredigittimeout = 1500
            [featuremap]
            blindxfer => ##
            disconnect => *9
            atxfer => *3
            """)
        #expect(config.codes == ["##": .blindTransfer, "*9": .disconnect, "*3": .attendedTransfer])
        #expect(config.code(of: .attendedTransfer) == "*3")
        #expect(config.code(of: .blindTransfer) == "##")
        #expect(config.transferDigitTimeout == .seconds(5))
        #expect(config.featureDigitTimeout == .milliseconds(1500))
    }

    @Test func atxferAbortIsAGeneralKeyDefaultingToStarOne() throws {
        #expect(try Self.parse("").abortTransferCode == "*1")
        let set = try Self.parse("[general]\natxferabort => #9\n")
        #expect(set.abortTransferCode == "#9" && set.warnings.isEmpty)
        #expect(try Self.parse("[general]\natxferabort =>\n").abortTransferCode == nil)
        // Not a [featuremap] key (as in Asterisk): warned about, no code.
        let misplaced = try Self.parse("[featuremap]\natxferabort => *1\n")
        #expect(misplaced.codes == FeaturesConfig.defaultCodes && misplaced.warnings.count == 1)
    }

    @Test func emptyCodeDisablesTheFeature() throws {
        let config = try Self.parse("[featuremap]\ndisconnect =>\n")
        #expect(config.codes == ["#": .blindTransfer])
        #expect(config.code(of: .disconnect) == nil)
    }

    @Test func unsupportedAndUnknownKeysWarnWithTheirLine() throws {
        let config = try Self.parse("""
            [general]
            pickupexten = *8
            colour = blue
            [featuremap]
            parkcall => #72
            [applicationmap]
            testfeature => #5,self,Playback,tt-monkeys
            """)
        let text = config.warnings.map(\.description)
        #expect(text.count == 4)
        #expect(text[0].hasPrefix("features.conf:2:") && text[0].contains("pickupexten"))
        #expect(text[1].hasPrefix("features.conf:3:") && text[1].contains("colour"))
        #expect(text[2].hasPrefix("features.conf:5:") && text[2].contains("parkcall is not supported"))
        #expect(text[3].hasPrefix("features.conf:6:") && text[3].contains("applicationmap"))
        #expect(config.codes == FeaturesConfig.defaultCodes)
    }

    @Test(arguments: [
        ("[featuremap]\nblindxfer => #x\n", "features.conf:2: blindxfer: expected DTMF keys"),
        ("[featuremap]\nblindxfer => *\n", "features.conf:2: blindxfer: code already used by disconnect"),
        ("[general]\ntransferdigittimeout => 0\n", "features.conf:2: transferdigittimeout: expected a whole number"),
        ("[general]\nfeaturedigittimeout => soon\n", "features.conf:2: featuredigittimeout: expected a whole number"),
        ("[general]\natxferabort => *x\n", "features.conf:2: atxferabort: expected DTMF keys"),
    ])
    func badValuesFailWithFileAndLine(text: String, message: String) {
        #expect {
            _ = try Self.parse(text)
        } throws: { error in
            (error as? ConfigError)?.description.hasPrefix(message) == true
        }
    }
}

@Suite("Feature code matcher")
struct FeatureCodeMatcherTests {
    static let codes: [String: BridgeFeature] = ["#": .blindTransfer, "*0": .disconnect]

    static func key(_ digit: Character, _ ms: Int = 100) -> PressedKey { PressedKey(digit, duration: .milliseconds(ms)) }

    @Test func aKeyNoCodeStartsWithGoesStraightOn() {
        var matcher = FeatureCodeMatcher(codes: Self.codes, features: [.blindTransfer, .disconnect])
        #expect(matcher.press(Self.key("5")) == .passOn([Self.key("5")]))
        #expect(matcher.held.isEmpty)
    }

    @Test func aSingleKeyCodeRunsAtOnce() {
        var matcher = FeatureCodeMatcher(codes: Self.codes, features: [.blindTransfer])
        #expect(matcher.press(Self.key("#")) == .feature(.blindTransfer))
        #expect(matcher.held.isEmpty)
    }

    @Test func aPrefixIsHeldUntilTheCodeCompletes() {
        var matcher = FeatureCodeMatcher(codes: Self.codes, features: [.disconnect])
        #expect(matcher.press(Self.key("*")) == .hold)
        #expect(matcher.held == [Self.key("*")])
        #expect(matcher.press(Self.key("0")) == .feature(.disconnect))
        #expect(matcher.held.isEmpty)
    }

    @Test func heldKeysArePassedOnInOrderWhenTheyCannotMatch() {
        var matcher = FeatureCodeMatcher(codes: ["*12": .blindTransfer], features: [.blindTransfer])
        #expect(matcher.press(Self.key("*", 80)) == .hold)
        #expect(matcher.press(Self.key("1", 90)) == .hold)
        #expect(matcher.press(Self.key("3", 70)) == .passOn([Self.key("*", 80), Self.key("1", 90), Self.key("3", 70)]))
        #expect(matcher.held.isEmpty)
    }

    @Test func theTimeoutReleasesTheHeldKeys() {
        var matcher = FeatureCodeMatcher(codes: Self.codes, features: [.disconnect])
        #expect(matcher.press(Self.key("*", 120)) == .hold)
        #expect(matcher.release() == [Self.key("*", 120)])
        #expect(matcher.held.isEmpty)
        // After the release a new code starts from scratch.
        #expect(matcher.press(Self.key("*")) == .hold)
        #expect(matcher.press(Self.key("0")) == .feature(.disconnect))
    }

    @Test func starTwoIsAttendedTransferBesideStarZero() {
        var matcher = FeatureCodeMatcher(codes: ["*0": .disconnect, "*2": .attendedTransfer, "#": .blindTransfer],
                                         features: BridgeFeatures(options: "th").callee)
        #expect(matcher.press(Self.key("*")) == .hold)
        #expect(matcher.press(Self.key("2")) == .feature(.attendedTransfer))
        #expect(matcher.press(Self.key("*")) == .hold)
        #expect(matcher.cleared().held.isEmpty)
        #expect(matcher.press(Self.key("0")) == .feature(.disconnect))
    }

    @Test func featuresThePartyMayNotUseAreOrdinaryKeys() {
        var matcher = FeatureCodeMatcher(codes: Self.codes, features: [.blindTransfer])
        #expect(matcher.press(Self.key("*")) == .passOn([Self.key("*")]))
        #expect(FeatureCodeMatcher(codes: Self.codes, features: []).isEmpty)
    }

    @Test(arguments: [
        ("t", BridgeFeatures(caller: [], callee: [.blindTransfer, .attendedTransfer])),
        ("T", BridgeFeatures(caller: [.blindTransfer, .attendedTransfer], callee: [])),
        ("tThH", BridgeFeatures(caller: [.blindTransfer, .attendedTransfer, .disconnect],
                                callee: [.blindTransfer, .attendedTransfer, .disconnect])),
        ("M(ht)r", BridgeFeatures.none),
        ("gU(sub^t)T", BridgeFeatures(caller: [.blindTransfer, .attendedTransfer], callee: [])),
    ])
    func optionLettersGiveEachPartyItsFeatures(options: String, expected: BridgeFeatures) {
        #expect(BridgeFeatures(options: options) == expected)
    }
}
