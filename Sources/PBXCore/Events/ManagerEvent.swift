import Foundation

/// One thing that happened in the switch, in Asterisk's manager-event shape: a name
/// (`Newchannel`, `DialBegin`, `QueueCallerJoin`…), the classes allowed to read it, and ordered
/// `Key: Value` fields exactly as AMI prints them after `Privilege:`. The bus carries these to
/// every subscriber — AMI serializes them as they are; CDR, queue_log and webhooks read fields.
public struct ManagerEvent: Sendable {
    public var name: String
    public var eventClass: EventClass
    public var fields: [Field]
    /// Seconds since the epoch when it was published (AMI `Timestamp:`, CDR times).
    public var timestamp: Double

    public struct Field: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(name: String, class eventClass: EventClass, fields: [Field], timestamp: Double = Date().timeIntervalSince1970) {
        self.name = name
        self.eventClass = eventClass
        self.fields = fields
        self.timestamp = timestamp
    }

    /// The first value of `key` (case-insensitive, as AMI keys are matched), or nil.
    public subscript(key: String) -> String? {
        fields.first { $0.key.caseInsensitiveCompare(key) == .orderedSame }?.value
    }
}
