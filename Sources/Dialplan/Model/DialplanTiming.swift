import Foundation

/// A moment as the dialplan's time conditions see it (local wall-clock fields). The executor
/// gets one from an injected clock, so tests choose the time instead of reading it.
public struct DialplanClockTime: Sendable, Hashable {
    /// 0...1439
    public var minuteOfDay: Int
    /// 0 = Sunday ... 6 = Saturday (as `tm_wday`).
    public var weekday: Int
    /// 1...31
    public var dayOfMonth: Int
    /// 1...12
    public var month: Int

    public init(hour: Int, minute: Int, weekday: Int, dayOfMonth: Int, month: Int) {
        self.minuteOfDay = hour * 60 + minute
        self.weekday = weekday
        self.dayOfMonth = dayOfMonth
        self.month = month
    }

    /// The wall-clock fields of `date` in `timeZone`.
    public init(_ date: Date, timeZone: TimeZone = .current) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute, .weekday, .day, .month], from: date)
        self.init(hour: parts.hour ?? 0, minute: parts.minute ?? 0, weekday: (parts.weekday ?? 1) - 1,
                  dayOfMonth: parts.day ?? 1, month: parts.month ?? 1)
    }
}

/// The `times,weekdays,mdays,months` of a time-conditional include or `GotoIfTime`/`ExecIfTime`
/// (Asterisk `ast_build_timing`):
/// each field is `*` or `&`-separated items, an item a value or a `start-end` range that may
/// wrap (`22:00-06:00`, `fri-mon`). Range ends are inclusive, as in Asterisk.
public struct DialplanTiming: Sendable, Hashable, CustomStringConvertible {
    /// Allowed minutes of the day (nil: any).
    var minutes: Set<Int>?
    var weekdays: Set<Int>?
    var daysOfMonth: Set<Int>?
    var months: Set<Int>?
    public let description: String

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Parses `times[,weekdays[,mdays[,months]]]`; missing fields mean "any". A time zone
    /// (the fifth field in Asterisk) is handled by the caller.
    public init(fields: [String]) throws(TimingError) {
        description = fields.joined(separator: ",")
        let padded = fields + Array(repeating: "*", count: max(0, 4 - fields.count))
        minutes = try Self.parseField(padded[0], name: "time") { text throws(TimingError) in try Self.parseMinute(text) } range: { 0...1439 }
        weekdays = try Self.parseField(padded[1], name: "weekday") { text throws(TimingError) in try Self.parseName(text, names: Self.dayNames, base: 0) } range: { 0...6 }
        daysOfMonth = try Self.parseField(padded[2], name: "day of month") { text throws(TimingError) in
            guard let day = Int(text), (1...31).contains(day) else { throw TimingError("bad day of month '\(text)'") }
            return day
        } range: { 1...31 }
        months = try Self.parseField(padded[3], name: "month") { text throws(TimingError) in try Self.parseName(text, names: Self.monthNames, base: 1) } range: { 1...12 }
    }

    public func contains(_ time: DialplanClockTime) -> Bool {
        (minutes?.contains(time.minuteOfDay) ?? true)
            && (weekdays?.contains(time.weekday) ?? true)
            && (daysOfMonth?.contains(time.dayOfMonth) ?? true)
            && (months?.contains(time.month) ?? true)
    }

    private static func parseField(_ field: String, name: String, value: (String) throws(TimingError) -> Int, range: () -> ClosedRange<Int>) throws(TimingError) -> Set<Int>? {
        let field = field.trimmingCharacters(in: .whitespaces).lowercased()
        if field.isEmpty || field == "*" { return nil }
        var result = Set<Int>()
        let bounds = range()
        for item in field.split(separator: "&") {
            let ends = item.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !ends.contains(where: \.isEmpty) else { throw TimingError("bad \(name) range '\(item)'") }
            let start = try value(ends[0])
            let end = ends.count == 2 ? try value(ends[1]) : start
            // Walk forward from start to end, wrapping at the top of the range.
            var current = start
            while true {
                result.insert(current)
                if current == end { break }
                current = current == bounds.upperBound ? bounds.lowerBound : current + 1
            }
        }
        return result
    }

    private static func parseMinute(_ text: String) throws(TimingError) -> Int {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...23).contains(hour), (0...59).contains(minute) else {
            throw TimingError("bad time '\(text)' (expected hh:mm)")
        }
        return hour * 60 + minute
    }

    private static func parseName(_ text: String, names: [String], base: Int) throws(TimingError) -> Int {
        guard let index = names.firstIndex(of: String(text.prefix(3))) else {
            throw TimingError("unknown name '\(text)' (expected one of \(names.joined(separator: ", ")))")
        }
        return index + base
    }
}

public struct TimingError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
