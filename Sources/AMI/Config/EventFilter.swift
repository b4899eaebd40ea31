import Foundation

/// One legacy manager event filter (ami.md §6.4): a regular expression matched against the
/// whole event text (`Event: Newchannel\r\nPrivilege: call,all\r\n…`); a leading `!` makes it
/// an exclude filter. Used by manager.conf `eventfilter=` and the `Filter` action alike.
public struct EventFilter: Sendable {
    public let isExclude: Bool
    /// The expression as written, without the `!`.
    public let pattern: String
    // NSRegularExpression is immutable after creation and documented thread-safe; Foundation
    // marks it Sendable.
    private let regex: NSRegularExpression

    /// Parses `Event: Newchannel` or `!Event: VarSet`; nil when the expression does not compile.
    public init?(_ text: String) {
        var body = Substring(text)
        isExclude = body.hasPrefix("!")
        if isExclude { body = body.dropFirst() }
        guard !body.isEmpty, let regex = try? NSRegularExpression(pattern: String(body)) else { return nil }
        pattern = String(body)
        self.regex = regex
    }

    func matches(_ eventText: String) -> Bool {
        regex.firstMatch(in: eventText, range: NSRange(eventText.startIndex..., in: eventText)) != nil
    }
}

/// A session's filters, applied as Asterisk applies them: none → everything passes; only
/// includes → an include must match; only excludes → no exclude may match; both → an include
/// must match and no exclude.
public struct EventFilterSet: Sendable {
    public private(set) var filters: [EventFilter]

    public init(_ filters: [EventFilter] = []) { self.filters = filters }

    public var isEmpty: Bool { filters.isEmpty }

    public mutating func add(_ filter: EventFilter) { filters.append(filter) }

    public func accepts(_ eventText: String) -> Bool {
        guard !filters.isEmpty else { return true }
        var hasInclude = false
        var included = false
        for filter in filters {
            if filter.isExclude {
                if filter.matches(eventText) { return false }
            } else {
                hasInclude = true
                if !included, filter.matches(eventText) { included = true }
            }
        }
        return !hasInclude || included
    }
}
