/// An ordered list of `;name[=value]` parameters as found on URIs, Via, and name-addr headers.
/// Names compare case-insensitively (RFC 3261 §7.3.1); a parameter may have no value (`;lr`).
public struct SIPParameters: Hashable, Sendable, Sequence {
    public struct Parameter: Hashable, Sendable {
        public var name: String
        public var value: String?
        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var items: [Parameter]

    public init(_ items: [Parameter] = []) { self.items = items }

    public func makeIterator() -> IndexingIterator<[Parameter]> { items.makeIterator() }

    public var isEmpty: Bool { items.isEmpty }

    /// Whether the parameter is present, with or without a value.
    public func contains(_ name: String) -> Bool {
        items.contains { $0.name.caseInsensitiveEquals(name) }
    }

    /// The value of the first parameter with this name; `""` for a valueless one, `nil` if absent.
    public subscript(name: String) -> String? {
        get {
            guard let item = items.first(where: { $0.name.caseInsensitiveEquals(name) }) else { return nil }
            return item.value ?? ""
        }
        set {
            if let index = items.firstIndex(where: { $0.name.caseInsensitiveEquals(name) }) {
                if let newValue { items[index].value = newValue.isEmpty ? nil : newValue } else { items.remove(at: index) }
            } else if let newValue {
                items.append(Parameter(name: name, value: newValue.isEmpty ? nil : newValue))
            }
        }
    }

    /// Sets a parameter, keeping `value == nil` as a flag parameter (`;rport`, `;lr`).
    public mutating func set(_ name: String, flagOrValue value: String?) {
        items.removeAll { $0.name.caseInsensitiveEquals(name) }
        items.append(Parameter(name: name, value: value))
    }

    public mutating func remove(_ name: String) {
        items.removeAll { $0.name.caseInsensitiveEquals(name) }
    }

    /// `;a=b;c` — the wire form, each parameter preceded by a semicolon.
    public var serialized: String {
        var out = ""
        for item in items {
            out += ";"
            out += item.name
            if let value = item.value {
                out += "="
                out += value
            }
        }
        return out
    }
}

extension StringProtocol {
    /// ASCII case-insensitive comparison, cheap enough for header and parameter names.
    @inlinable
    public func caseInsensitiveEquals(_ other: some StringProtocol) -> Bool {
        let a = self.utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = (x >= 65 && x <= 90) ? x | 0x20 : x
            let ly = (y >= 65 && y <= 90) ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }
}
