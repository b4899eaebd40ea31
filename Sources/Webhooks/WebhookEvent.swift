import Foundation

/// One event for a CRM, as its JSON body says it: an id the CRM uses to drop duplicates (the
/// same on every retry), the event name, the call it belongs to (Asterisk's Linkedid) and the
/// event's data.
public struct WebhookEvent: Sendable, Equatable, Codable {
    public var id: String
    public var event: String
    /// Linkedid of the call; nil for events that are not about one call (agent state).
    public var call: String?
    /// Seconds since the epoch.
    public var timestamp: Double
    public var data: [String: WebhookValue]

    public init(id: String = UUID().uuidString.lowercased(), event: String, call: String?, timestamp: Double, data: [String: WebhookValue]) {
        self.id = id
        self.event = event
        self.call = call
        self.timestamp = timestamp
        self.data = data
    }

    /// The body sent (and signed): compact JSON with sorted keys.
    public func body() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }
}

/// A JSON value in an event's data.
public enum WebhookValue: Sendable, Equatable, Codable {
    case string(String)
    case number(Int)
    case bool(Bool)
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Int.self) { self = .number(value) }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else { self = .string(try container.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// A string, or null when empty (caller ID not given).
    static func text(_ value: String?) -> WebhookValue {
        guard let value, !value.isEmpty, value != "<unknown>" else { return .null }
        return .string(value)
    }
}
