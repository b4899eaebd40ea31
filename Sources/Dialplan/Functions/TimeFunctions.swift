import Foundation

/// `STRFTIME([epoch][,timezone[,format]])` (Asterisk `func_strings`): a time formatted with
/// strftime's conversions, in the given zone (the executor's by default) — business-hours
/// announcements and CDR-style stamps. `${EPOCH}` (the current Unix time) is a builtin
/// variable in `ChannelExecution.value(of:)`, as in Asterisk. Both read the executor's clock.
enum TimeFunctions {
    static let all: [DialplanFunction] = [strftime]

    static let strftime = DialplanFunction(name: "STRFTIME") { execution, arguments in
        let fields = ArgumentSplitter.split(arguments)
        let epochText = fields[0].trimmingCharacters(in: .whitespaces)
        let date: Date
        if epochText.isEmpty {
            date = execution.executor.clock()
        } else if let seconds = Double(epochText), seconds.isFinite {
            date = Date(timeIntervalSince1970: seconds)
        } else {
            throw DialplanError("STRFTIME: '\(epochText)' is not an epoch")
        }
        var zone = execution.executor.timeZone
        if fields.count > 1 {
            let name = fields[1].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty {
                guard let named = TimeZone(identifier: name) else { throw DialplanError("STRFTIME: unknown time zone '\(name)'") }
                zone = named
            }
        }
        let pattern = fields.count > 2 && !fields[2].isEmpty ? fields[2] : "%c"
        return format(date, zone: zone, format: pattern)
    }

    /// `EST`, `CET`…: ICU's short zone name in US English (Foundation's
    /// `TimeZone.abbreviation` gives `GMT-5` on Linux); `GMT±h` where ICU has no name.
    static func zoneAbbreviation(_ zone: TimeZone, at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US")
        formatter.timeZone = zone
        formatter.dateFormat = "zzz"
        return formatter.string(from: date)
    }

    static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let monthNames = ["January", "February", "March", "April", "May", "June", "July",
                             "August", "September", "October", "November", "December"]

    /// strftime in the C locale: `%a %A %b %B %c %C %d %D %e %F %H %I %j %k %l %m %M %n %p %r
    /// %R %s %S %t %T %u %w %y %Y %z %Z %%` and Asterisk's `%1q`…`%6q` (fractions of a second).
    /// An unknown conversion is copied as written.
    static func format(_ date: Date, zone: TimeZone, format: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday, .nanosecond], from: date)
        let year = c.year ?? 1970, month = c.month ?? 1, day = c.day ?? 1
        let hour = c.hour ?? 0, minute = c.minute ?? 0, second = c.second ?? 0
        let weekday = (c.weekday ?? 1) - 1
        let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
        let hour12 = hour % 12 == 0 ? 12 : hour % 12
        func pad(_ value: Int, _ width: Int = 2, _ fill: Character = "0") -> String {
            let text = String(value)
            return String(repeating: fill, count: max(0, width - text.count)) + text
        }
        let offset = zone.secondsFromGMT(for: date)
        var output = ""
        var chars = format[...]
        while let ch = chars.popFirst() {
            guard ch == "%", let spec = chars.popFirst() else {
                output.append(ch)
                continue
            }
            switch spec {
            case "a": output += String(dayNames[weekday].prefix(3))
            case "A": output += dayNames[weekday]
            case "b", "h": output += String(monthNames[month - 1].prefix(3))
            case "B": output += monthNames[month - 1]
            case "c": output += Self.format(date, zone: zone, format: "%a %b %e %H:%M:%S %Y")
            case "C": output += pad(year / 100)
            case "d": output += pad(day)
            case "D": output += Self.format(date, zone: zone, format: "%m/%d/%y")
            case "e": output += pad(day, 2, " ")
            case "F": output += Self.format(date, zone: zone, format: "%Y-%m-%d")
            case "H": output += pad(hour)
            case "I": output += pad(hour12)
            case "j": output += pad(dayOfYear, 3)
            case "k": output += pad(hour, 2, " ")
            case "l": output += pad(hour12, 2, " ")
            case "m": output += pad(month)
            case "M": output += pad(minute)
            case "n": output += "\n"
            case "p": output += hour < 12 ? "AM" : "PM"
            case "r": output += Self.format(date, zone: zone, format: "%I:%M:%S %p")
            case "R": output += Self.format(date, zone: zone, format: "%H:%M")
            case "s": output += String(Int64(date.timeIntervalSince1970.rounded(.down)))
            case "S": output += pad(second)
            case "t": output += "\t"
            case "T": output += Self.format(date, zone: zone, format: "%H:%M:%S")
            case "u": output += String(weekday == 0 ? 7 : weekday)
            case "w": output += String(weekday)
            case "y": output += pad(year % 100)
            case "Y": output += String(year)
            case "z": output += (offset < 0 ? "-" : "+") + pad(abs(offset) / 3600) + pad(abs(offset) % 3600 / 60)
            case "Z": output += zoneAbbreviation(zone, at: date)
            case "%": output += "%"
            case "1"..."6" where chars.first == "q":
                chars = chars.dropFirst()
                let digits = Int(String(spec))!
                let fraction = pad((c.nanosecond ?? 0) / 1_000, 6)
                output += String(fraction.prefix(digits))
            default: output += "%\(spec)"
            }
        }
        return output
    }
}
