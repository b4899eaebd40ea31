/// A DTMF key as pressed by a bridged party: the key and how long it lasted, so a key that was
/// held back and then passed on reaches the other party as it was pressed.
public struct PressedKey: Sendable, Equatable {
    public var digit: Character
    public var duration: Duration

    public init(_ digit: Character, duration: Duration = .milliseconds(100)) {
        self.digit = digit
        self.duration = duration
    }
}

/// Watches one bridged party's keys for feature codes, as Asterisk's bridge does with its DTMF
/// hooks: a key that could start (or continue) a code is held back from the other party; once
/// the keys held form a code the feature runs (an exact match wins at once, even if a longer
/// code starts with it); once they can't, they are passed on in the order pressed. The caller
/// arms a timer (features.conf `featuredigittimeout`) whenever `press` says `.hold`, and calls
/// `release()` when it fires.
public struct FeatureCodeMatcher: Sendable {
    public enum Step: Sendable, Equatable {
        /// Send these keys to the other party, in this order (held ones first).
        case passOn([PressedKey])
        /// Held back: the keys so far begin a feature code.
        case hold
        /// The keys held form this feature's code (they are consumed).
        case feature(BridgeFeature)
    }

    private let codes: [String: BridgeFeature]
    /// Keys held back so far, oldest first.
    public private(set) var held: [PressedKey] = []

    /// - Parameter features: the features this party may use; codes of others are ignored.
    public init(codes: [String: BridgeFeature], features: Set<BridgeFeature>) {
        self.codes = codes.filter { features.contains($0.value) && !$0.key.isEmpty }
    }

    /// Whether this party has any feature to watch for.
    public var isEmpty: Bool { codes.isEmpty }

    public mutating func press(_ key: PressedKey) -> Step {
        held.append(key)
        let typed = String(held.map(\.digit))
        if let feature = codes[typed] {
            held.removeAll()
            return .feature(feature)
        }
        if codes.keys.contains(where: { $0.hasPrefix(typed) }) { return .hold }
        return .passOn(release())
    }

    /// The same codes with no key held (for a party back in a bridge it had left).
    public func cleared() -> FeatureCodeMatcher {
        var copy = self
        copy.held.removeAll()
        return copy
    }

    /// The keys held back, to pass on (the feature digit timeout passed); none held afterwards.
    public mutating func release() -> [PressedKey] {
        defer { held.removeAll() }
        return held
    }
}

/// Which party of a bridge may use which feature: Dial()'s and Queue()'s option letters.
public struct BridgeFeatures: Sendable, Equatable {
    /// The calling party's features (`T`: blind and attended transfer, `H`: disconnect).
    public var caller: Set<BridgeFeature>
    /// The called party's (`t`, `h`) — a queue's agent.
    public var callee: Set<BridgeFeature>

    public static let none = BridgeFeatures(caller: [], callee: [])

    public init(caller: Set<BridgeFeature>, callee: Set<BridgeFeature>) {
        self.caller = caller
        self.callee = callee
    }

    /// Asterisk's `t`/`T` allow both kinds of transfer.
    static let transfers: Set<BridgeFeature> = [.blindTransfer, .attendedTransfer]

    /// From option letters (`tTwW`…): `t`/`T` blind and attended transfer, `h`/`H` disconnect, for the
    /// called/calling party; letters inside an option's parentheses (`M(ht)`) are parameters.
    public init(options: String) {
        self = .none
        var depth = 0
        for letter in options {
            switch letter {
            case "(": depth += 1
            case ")": depth = max(0, depth - 1)
            case _ where depth > 0: continue
            case "t": callee.formUnion(Self.transfers)
            case "T": caller.formUnion(Self.transfers)
            case "h": callee.insert(.disconnect)
            case "H": caller.insert(.disconnect)
            default: continue
            }
        }
    }

    public var isEmpty: Bool { caller.isEmpty && callee.isEmpty }
}
