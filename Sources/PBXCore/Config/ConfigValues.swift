import Foundation

/// Something in a config file that does not stop start-up but that the operator should see:
/// an unknown key, an Asterisk option pbxd ignores. Always with `file:line`.
public struct ConfigWarning: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public init(_ message: String, at location: SourceLocation) {
        self.message = message
        self.location = location
    }
    public var description: String { "\(location): \(message)" }
}

/// Value conversions with Asterisk's spellings, each failing with the entry's location.
extension ConfigEntry {
    /// Asterisk's `ast_true`/`ast_false`: yes/no, true/false, y/n, t/f, 1/0, on/off.
    public func boolValue() throws(ConfigError) -> Bool {
        switch value.lowercased() {
        case "yes", "true", "y", "t", "1", "on": return true
        case "no", "false", "n", "f", "0", "off": return false
        default: throw ConfigError("\(key): expected yes or no, found '\(value)'", at: location)
        }
    }

    /// A decimal integer within `range`.
    public func intValue(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let number = Int(value), range.contains(number) else {
            throw ConfigError("\(key): expected a whole number in \(range.lowerBound)...\(range.upperBound), found '\(value)'", at: location)
        }
        return number
    }

    /// The comma-separated items of the value, trimmed, empty ones dropped.
    public var listValue: [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func invalid(_ expectation: String) -> ConfigError {
        ConfigError("\(key): \(expectation), found '\(value)'", at: location)
    }
}
