import PBXCore

/// queuerules.conf (app_queue): named rules that widen (or narrow) which member penalties a
/// waiting caller may reach as its wait grows — skills-based routing where a caller first gets
/// the best-matched agents and, after 30 s, the next level too.
///
/// ```
/// [escalate]
/// penaltychange => 30,+1        ; after 30 s: QUEUE_MAX_PENALTY one higher
/// penaltychange => 60,5,1       ; after 60 s: max 5, min 1
/// ```
public struct PenaltyRules: Sendable, Hashable {
    public var rules: [String: [PenaltyChange]] = [:]
    public var warnings: [ConfigWarning] = []

    public init(rules: [String: [PenaltyChange]] = [:]) { self.rules = rules }

    public static func load(path: String) throws(ConfigError) -> PenaltyRules {
        try PenaltyRules(try ConfigFile.load(path: path))
    }

    public init(_ file: ConfigFile) throws(ConfigError) {
        for section in file.sections where section.name.lowercased() != "general" {
            var changes: [PenaltyChange] = []
            for entry in section.entries {
                guard entry.key.lowercased() == "penaltychange" else {
                    warnings.append(ConfigWarning("unknown option '\(entry.key)' in queuerules.conf [\(section.name)]; ignored", at: entry.location))
                    continue
                }
                changes.append(try PenaltyChange(entry))
            }
            rules[section.name] = changes.sorted { $0.after < $1.after }
        }
    }
}

/// One `penaltychange => seconds,max[,min]`: `+n`/`-n` change the caller's current value,
/// a bare number sets it.
public struct PenaltyChange: Sendable, Hashable {
    public var after: Int
    public var max: PenaltyBound?
    public var min: PenaltyBound?

    public init(after: Int, max: PenaltyBound?, min: PenaltyBound? = nil) {
        self.after = after
        self.max = max
        self.min = min
    }

    init(_ entry: ConfigEntry) throws(ConfigError) {
        let parts = entry.value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count >= 2, let after = Int(parts[0]), after >= 0 else {
            throw entry.failure("expected 'seconds,max[,min]', e.g. 30,+1")
        }
        self.after = after
        self.max = try Self.bound(parts[1], entry)
        self.min = parts.count > 2 ? try Self.bound(parts[2], entry) : nil
    }

    private static func bound(_ text: String, _ entry: ConfigEntry) throws(ConfigError) -> PenaltyBound? {
        if text.isEmpty { return nil }
        let relative = text.hasPrefix("+") || text.hasPrefix("-")
        guard let value = Int(relative ? String(text.dropFirst()) : text), value >= 0 else {
            throw entry.failure("'\(text)' is not a penalty (n, +n or -n)")
        }
        return relative ? .relative(text.hasPrefix("-") ? -value : value) : .absolute(value)
    }
}

public enum PenaltyBound: Sendable, Hashable {
    case absolute(Int)
    case relative(Int)

    /// The new limit; a relative change of an unlimited value (nil) starts from 0, as app_queue does.
    func applied(to current: Int?) -> Int {
        switch self {
        case .absolute(let value): value
        case .relative(let delta): Swift.max(0, (current ?? 0) + delta)
        }
    }
}

/// The penalties a caller may reach now (`QUEUE_MAX_PENALTY`/`QUEUE_MIN_PENALTY`, nil: no
/// limit) and the rule's changes still to come.
public struct CallerPenalties: Sendable, Hashable {
    public var max: Int?
    public var min: Int?
    public var pending: [PenaltyChange]

    public init(max: Int? = nil, min: Int? = nil, rule: [PenaltyChange] = []) {
        self.max = max
        self.min = min
        self.pending = rule
    }

    /// Applies the changes due after `waited` seconds; true when something changed.
    mutating func advance(waited: Int) -> Bool {
        var changed = false
        while let next = pending.first, next.after <= waited {
            pending.removeFirst()
            if let bound = next.max { self.max = bound.applied(to: self.max) }
            if let bound = next.min { self.min = bound.applied(to: self.min) }
            changed = true
        }
        return changed
    }

    func allows(_ penalty: Int) -> Bool {
        (max.map { penalty <= $0 } ?? true) && (min.map { penalty >= $0 } ?? true)
    }
}
