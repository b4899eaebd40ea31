import Foundation

/// An in-call DTMF feature a bridged party can dial (features.conf `[featuremap]`).
public enum BridgeFeature: String, Sendable, Hashable, CaseIterable {
    /// `blindxfer`: the other party is sent to an extension the dialer then keys in.
    case blindTransfer = "blindxfer"
    /// `atxfer`: the other party is held while the dialer consults an extension it keys in;
    /// hanging up then bridges the two (SIPAttendedTransfer).
    case attendedTransfer = "atxfer"
    /// `atxferabort` (a `[general]` key): while consulting, the transferer ends the
    /// consultation and is back with the transferee (as AMI CancelAtxfer).
    case abortTransfer = "atxferabort"
    /// `disconnect`: the party who dials it hangs up (and the bridge with it).
    case disconnect
}

/// features.conf, the part pbxd implements: the feature codes of `[featuremap]` and the digit
/// timeouts of `[general]`, with Asterisk's defaults when the file or a key is absent.
///
/// ```
/// [general]
/// transferdigittimeout => 3     ; seconds between the digits of a transfer's extension
/// featuredigittimeout => 1000   ; ms to complete a multi-digit feature code
/// atxferabort => *1             ; while consulting: back to the transferee
/// [featuremap]
/// blindxfer => #
/// disconnect => *0
/// atxfer => *2
/// ```
///
/// Not implemented (a warning names them): `atxfercomplete`, `atxferthreeway`, `atxferswap`,
/// `parkcall`, `automon`, `automixmon`, `[applicationmap]` and the other `[general]` keys.
public struct FeaturesConfig: Sendable, Equatable {
    /// Feature code (DTMF keys) → feature. An empty value in the file disables the feature.
    public var codes: [String: BridgeFeature]
    /// Longest wait for the next digit of a transfer's extension.
    public var transferDigitTimeout: Duration
    /// Longest wait for the next digit of a feature code before the held digits go on.
    public var featureDigitTimeout: Duration
    /// The consulting transferer's code to abort its attended transfer; nil when disabled.
    public var abortTransferCode: String? = "*1"
    public var warnings: [ConfigWarning] = []

    /// Asterisk's built-in map (features_config.c) when features.conf leaves a feature out:
    /// `blindxfer => #`, `disconnect => *`, no `atxfer`. (Its sample file, like conf/features.conf,
    /// sets `disconnect => *0` and `atxfer => *2`.)
    public static let defaultCodes: [String: BridgeFeature] = ["#": .blindTransfer, "*": .disconnect]

    public init(
        codes: [String: BridgeFeature] = Self.defaultCodes, transferDigitTimeout: Duration = .seconds(3),
        featureDigitTimeout: Duration = .milliseconds(1000)
    ) {
        self.codes = codes
        self.transferDigitTimeout = transferDigitTimeout
        self.featureDigitTimeout = featureDigitTimeout
    }

    /// The code of `feature`, if it has one.
    public func code(of feature: BridgeFeature) -> String? {
        codes.first { $0.value == feature }?.key
    }

    public static func load(path: String) throws(ConfigError) -> FeaturesConfig {
        try FeaturesConfig(try ConfigFile.load(path: path))
    }

    /// Keys of Asterisk's features.conf that pbxd reads but does not act on.
    private static let unsupportedGeneral: Set<String> = [
        "pickupexten", "pickupsound", "pickupfailsound", "atxfernoanswertimeout",
        "atxferdropcall", "atxferloopdelay", "atxfercallbackretries", "atxfercomplete",
        "atxferthreeway", "atxferswap", "transferdialattempts", "transferretrysound", "transferinvalidsound",
        "courtesytone", "xfersound", "xferfailsound", "recordingfailsound", "parkedplay",
    ]
    private static let unsupportedFeatures: Set<String> = ["parkcall", "automon", "automixmon"]

    public init(_ file: ConfigFile) throws(ConfigError) {
        self.init()
        var codes = Self.defaultCodes
        for section in file.sections {
            switch section.name.lowercased() {
            case "general":
                try readGeneral(section)
            case "featuremap":
                for entry in section.entries {
                    let key = entry.key.lowercased()
                    if let feature = BridgeFeature(rawValue: key), feature != .abortTransfer {
                        codes = codes.filter { $0.value != feature }
                        guard !entry.value.isEmpty else { continue }
                        try Self.checkCode(entry)
                        if let other = codes[entry.value] {
                            throw entry.invalid("code already used by \(other.rawValue)")
                        }
                        codes[entry.value] = feature
                    } else if Self.unsupportedFeatures.contains(key) {
                        warnings.append(
                            ConfigWarning("features.conf: \(key) is not supported by pbxd; ignored", at: entry.location))
                    } else {
                        warnings.append(
                            ConfigWarning(
                                "unknown feature '\(entry.key)' in features.conf [featuremap]; ignored", at: entry.location))
                    }
                }
            default:
                warnings.append(
                    ConfigWarning("features.conf [\(section.name)] is not supported by pbxd; ignored", at: section.location))
            }
        }
        self.codes = codes
    }

    private mutating func readGeneral(_ section: ConfigSection) throws(ConfigError) {
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "transferdigittimeout":
                transferDigitTimeout = .seconds(try entry.intValue(in: 1...600))
            case "featuredigittimeout":
                featureDigitTimeout = .milliseconds(try entry.intValue(in: 1...60_000))
            case "atxferabort":
                if !entry.value.isEmpty { try Self.checkCode(entry) }
                abortTransferCode = entry.value.isEmpty ? nil : entry.value
            case let key where Self.unsupportedGeneral.contains(key):
                warnings.append(ConfigWarning("features.conf: \(key) is not supported by pbxd; ignored", at: entry.location))
            default:
                warnings.append(
                    ConfigWarning("unknown option '\(entry.key)' in features.conf [general]; ignored", at: entry.location))
            }
        }
    }

    /// A feature code is DTMF keys only: `0-9 * # A-D`.
    private static func checkCode(_ entry: ConfigEntry) throws(ConfigError) {
        guard entry.value.allSatisfy({ "0123456789*#ABCD".contains($0) }) else {
            throw entry.invalid("expected DTMF keys (0-9, *, #, A-D)")
        }
    }
}
