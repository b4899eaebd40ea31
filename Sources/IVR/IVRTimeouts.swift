import Dialplan
import PBXCore

/// The per-channel timeouts Asterisk keeps in `ast_pbx` (`dtimeoutms`, `rtimeoutms`), read and
/// written with `TIMEOUT(digit)` / `TIMEOUT(response)`.
///
/// They are stored as channel variables named `TIMEOUT(digit)` / `TIMEOUT(response)`: a
/// `${...}` reference with parentheses always resolves to the function, so these entries can't
/// collide with a dialplan variable and are only reachable through `TIMEOUT()`.
public enum IVRTimeouts {
    /// Asterisk's defaults: 5 s between digits, 10 s for the first digit.
    public static let defaultDigit: Duration = .seconds(5)
    public static let defaultResponse: Duration = .seconds(10)

    /// `TIMEOUT(digit)`: the inter-digit timeout.
    public static func digit(_ execution: ChannelExecution) -> Duration {
        stored(execution, "digit") ?? defaultDigit
    }

    /// `TIMEOUT(response)`: how long WaitExten waits for the first digit by default.
    public static func response(_ execution: ChannelExecution) -> Duration {
        stored(execution, "response") ?? defaultResponse
    }

    private static func stored(_ execution: ChannelExecution, _ kind: String) -> Duration? {
        execution.variable("TIMEOUT(\(kind))").flatMap(seconds)
    }

    /// `TIMEOUT(digit|response)` read and write (seconds, fractions allowed). `absolute` (hang
    /// up after a total time) isn't supported yet and fails loudly rather than doing nothing.
    static let function = DialplanFunction(
        name: "TIMEOUT",
        read: { execution, arguments in
            let kind = try kind(arguments)
            let value = kind == "digit" ? digit(execution) : response(execution)
            return format(value)
        },
        write: { execution, arguments, value in
            let kind = try kind(arguments)
            guard seconds(value) != nil else {
                // Asterisk silently turns a bad value into 0 (no waiting at all); keeping the
                // previous timeout and saying so is kinder to a menu with a typo.
                execution.logger.warning("TIMEOUT(\(kind)): '\(value)' is not a number of seconds > 0; unchanged",
                                         metadata: ["location": "\(execution.location)"])
                return
            }
            execution.setVariable("TIMEOUT(\(kind))", value.trimmingCharacters(in: .whitespaces))
        }
    )

    private static func kind(_ arguments: String) throws -> String {
        let kind = arguments.trimmingCharacters(in: .whitespaces).lowercased()
        switch kind {
        case "digit", "d": return "digit"
        case "response", "r": return "response"
        default: throw DialplanError("TIMEOUT(\(arguments)): only 'digit' and 'response' are supported")
        }
    }

    /// Parses dialplan seconds (`5`, `2.5`); nil when not a number > 0.
    public static func seconds(_ text: String) -> Duration? {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite else { return nil }
        // A year is more than any call; it also keeps the conversion in range.
        return .milliseconds(Int64(min(value, 365 * 24 * 3600) * 1000))
    }

    static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? String(milliseconds / 1000) : String(Double(milliseconds) / 1000)
    }
}
