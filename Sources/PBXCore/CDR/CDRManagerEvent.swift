#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CDR times as every Asterisk backend prints them: `YYYY-MM-DD HH:MM:SS`, local time unless
/// `usegmtime`. Uses the C library (`localtime_r` honours `TZ`), which is also far cheaper than
/// a DateFormatter per field under a call burst.
public enum CDRTimestamp {
    public static func text(_ epoch: Double, utc: Bool) -> String {
        var seconds = time_t(epoch.rounded(.down))
        var parts = tm()
        if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}

extension CallDetailRecord {
    /// The AMI `Cdr` event of cdr_manager (class `cdr`), keys in Asterisk 18's order. Times are
    /// local (cdr_manager has no `usegmtime`; `utc` is for tests and UTC hosts); an unanswered
    /// leg has an empty `AnswerTime`.
    public func managerEvent(utc: Bool = false, timestamp: Double? = nil) -> ManagerEvent {
        let fields: [ManagerEvent.Field] = [
            .init("AccountCode", accountCode),
            .init("Source", source),
            .init("Destination", destination),
            .init("DestinationContext", destinationContext),
            .init("CallerID", callerID),
            .init("Channel", channel),
            .init("DestinationChannel", destinationChannel),
            .init("LastApplication", lastApplication),
            .init("LastData", lastData),
            .init("StartTime", CDRTimestamp.text(start, utc: utc)),
            .init("AnswerTime", answer.map { CDRTimestamp.text($0, utc: utc) } ?? ""),
            .init("EndTime", CDRTimestamp.text(end, utc: utc)),
            .init("Duration", String(duration)),
            .init("BillableSeconds", String(billableSeconds)),
            .init("Disposition", disposition.rawValue),
            .init("AMAFlags", amaFlags.rawValue),
            .init("UniqueID", uniqueID),
            .init("UserField", userField),
        ]
        return ManagerEvent(name: "Cdr", class: .cdr, fields: fields, timestamp: timestamp ?? end)
    }
}
