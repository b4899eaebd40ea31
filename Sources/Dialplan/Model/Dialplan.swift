import PBXCore

/// One priority line: `exten => 1001,n(dial),Dial(SIP/1001,20)`.
public struct DialplanPriority: Sendable, Hashable {
    public var number: Int
    /// `n(label)` / `1(label)`, the target of `Goto(label)`.
    public var label: String?
    /// Application name as written (`Dial`); looked up case-insensitively when run.
    public var application: String
    /// Everything between the parentheses, unsubstituted (`${VAR}` is expanded at run time).
    public var arguments: String
    public var location: SourceLocation

    public init(number: Int, label: String? = nil, application: String, arguments: String, location: SourceLocation) {
        self.number = number
        self.label = label
        self.application = application
        self.arguments = arguments
        self.location = location
    }
}

/// All priorities written for one extension name (plus optional caller ID match) in a context.
public struct DialplanExtension: Sendable {
    public var pattern: ExtensionPattern
    /// `exten => 306/_101,...`: only used when the caller ID number matches this.
    public var callerIDMatch: ExtensionPattern?
    /// By priority number.
    public var priorities: [Int: DialplanPriority] = [:]
    /// `exten => 1001,hint,SIP/1001`: the device(s) whose state this extension reports.
    public var hint: String?
    public var location: SourceLocation

    public init(pattern: ExtensionPattern, callerIDMatch: ExtensionPattern? = nil, location: SourceLocation) {
        self.pattern = pattern
        self.callerIDMatch = callerIDMatch
        self.location = location
    }

    /// The name as written, with `/cid` when there is one (for logs and listings).
    public var name: String {
        callerIDMatch.map { "\(pattern.text)/\($0.text)" } ?? pattern.text
    }

    /// The priority number carrying `label`, if any.
    public func priority(labeled label: String) -> Int? {
        priorities.values.first { $0.label == label }?.number
    }

    /// Whether this extension applies to a caller: no CID match, or the caller's number matches.
    /// An empty caller ID never matches a CID-specific extension (Asterisk's `matchcid`).
    func accepts(callerID: String?) -> Bool {
        guard let cidPattern = callerIDMatch else { return true }
        guard let callerID, !callerID.isEmpty else { return false }
        return cidPattern.matches(callerID)
    }

    /// Asterisk's search order within a context: `ext_cmp` on the extension, and for the same
    /// extension the caller-ID-specific entries before the general one.
    static func searchOrder(_ lhs: DialplanExtension, _ rhs: DialplanExtension) -> Bool {
        if lhs.pattern != rhs.pattern, !lhs.pattern.isEquivalent(to: rhs.pattern) {
            return lhs.pattern < rhs.pattern
        }
        switch (lhs.callerIDMatch, rhs.callerIDMatch) {
        case (.some, .none): return true
        case (.none, .some): return false
        case (.some(let a), .some(let b)): return a < b
        case (.none, .none): return false
        }
    }
}

/// `include => other-context`, optionally time-conditional (`include => day,08:00-18:00,mon-fri,*,*`).
public struct DialplanInclude: Sendable, Hashable {
    public var context: String
    /// The time specification as written, when the include has one.
    public var timing: DialplanTiming?
    public var location: SourceLocation

    public init(context: String, timing: DialplanTiming? = nil, location: SourceLocation) {
        self.context = context
        self.timing = timing
        self.location = location
    }
}

/// One `[context]` of extensions.conf.
public struct DialplanContext: Sendable {
    public var name: String
    /// In Asterisk's search order (see `DialplanExtension.searchOrder`). Only the loader changes
    /// them, and it calls `reindex()` when it has.
    public internal(set) var extensions: [DialplanExtension] = []
    /// Where a dialed number can match, so a lookup in a context of 10,000 numbers doesn't try
    /// each one (see `ExtensionIndex`).
    private(set) var index = ExtensionIndex()
    /// Searched, in order, after this context's own extensions.
    public var includes: [DialplanInclude] = []
    /// `ignorepat => 9`: digits after which dial tone is kept (overlap dialing, for later).
    public var ignorePatterns: [String] = []
    public var location: SourceLocation

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    /// Rebuilds `index` from `extensions` (after the loader has added and sorted them).
    mutating func reindex() {
        index = ExtensionIndex(extensions)
    }

    /// The positions in `extensions` that could match `exten`, in search order: every position
    /// when `exten` is nil (prefix questions) or the index is out of date, else the exact names
    /// equal to it, then every pattern. Exact names sort before patterns (`ext_cmp`), so this is
    /// the full search order with the exact names that cannot match left out.
    func candidates(for exten: String?, _ visit: (Int) -> Bool) {
        guard let exten, index.count == extensions.count else {
            for position in extensions.indices where visit(position) { return }
            return
        }
        let key = exten.contains(where: { $0 == "-" || $0 == " " }) ? ExtensionPattern.stripSeparators(exten) : exten
        for position in index.literals[key] ?? [] where visit(position) { return }
        if let matching = index.trie.matches(exten) {
            for position in matching where visit(position) { return }
            return
        }
        // Not printable ASCII: try each pattern (without copying the extensions that don't match).
        for candidate in index.patterns where candidate.pattern.matches(exten) && visit(candidate.position) { return }
    }
}

/// A context's extensions by kind: exact names by their text (separators removed), patterns in
/// search order, and the patterns again as a `PatternTrie`. Positions refer to
/// `DialplanContext.extensions`.
struct ExtensionIndex: Sendable {
    var literals: [String: [Int]] = [:]
    var patterns: [(position: Int, pattern: ExtensionPattern)] = []
    var trie = PatternTrie()
    /// How many extensions were indexed (a stale index is not used).
    var count = 0

    init() {}

    init(_ extensions: [DialplanExtension]) {
        for (position, entry) in extensions.enumerated() {
            if entry.pattern.isPattern {
                patterns.append((position, entry.pattern))
            } else {
                literals[entry.pattern.literal, default: []].append(position)
            }
        }
        trie = PatternTrie(patterns)
        count = extensions.count
    }
}

/// A loaded extensions.conf: contexts, `[globals]` and `[general]` settings. A value: a reload
/// builds a new one and swaps it in; calls already running keep the one they started with.
///
/// Every lookup follows Asterisk's `pbx_find_extension`: the context's own extensions in search
/// order, then its includes depth-first, each context visited once (so include loops are safe).
/// A priority is looked up afresh each time, so a priority missing from the best match falls
/// through to the next matching extension that has it (documented Asterisk behaviour).
public struct Dialplan: Sendable {
    public var contexts: [String: DialplanContext]
    /// `[globals]` as written (values are not substituted; Asterisk stores them raw).
    public var globals: [String: String]
    /// `[general]` `autofallthrough` (default yes). `no` is not supported and warns at load.
    public var autoFallthrough: Bool

    public init(contexts: [String: DialplanContext] = [:], globals: [String: String] = [:], autoFallthrough: Bool = true) {
        self.contexts = contexts
        self.globals = globals
        self.autoFallthrough = autoFallthrough
    }

    /// The deepest include chain followed; deeper includes are ignored (Asterisk's
    /// `AST_PBX_MAX_STACK` guards the same thing).
    public static let maxIncludeDepth = 128

    /// Visits, in search order, every extension of `context` (and its includes) for which
    /// `body` returns non-nil, stopping at the first such result.
    /// `matching`: the number being looked up, when `body` only accepts extensions that match
    /// it exactly (then exact names that differ are skipped without being tried).
    func search<T>(context: String, matching exten: String? = nil, callerID: String?, at date: DialplanClockTime?,
                   _ body: (DialplanExtension) -> T?) -> T? {
        var visited = Set<String>()
        return search(context: context, exten: exten, callerID: callerID, date: date, depth: 0, visited: &visited, body)
    }

    private func search<T>(context name: String, exten: String?, callerID: String?, date: DialplanClockTime?, depth: Int,
                           visited: inout Set<String>, _ body: (DialplanExtension) -> T?) -> T? {
        guard depth < Self.maxIncludeDepth, !visited.contains(name), let context = contexts[name] else { return nil }
        visited.insert(name)
        var result: T?
        context.candidates(for: exten) { position in
            let extensionEntry = context.extensions[position]
            guard extensionEntry.accepts(callerID: callerID) else { return false }
            result = body(extensionEntry)
            return result != nil
        }
        if let result { return result }
        for include in context.includes {
            if let timing = include.timing, let date, !timing.contains(date) { continue }
            if let found = search(context: include.context, exten: exten, callerID: callerID, date: date, depth: depth + 1,
                                  visited: &visited, body) {
                return found
            }
        }
        return nil
    }

    /// The priority to run at `(context, exten, priority)` for this caller, if any.
    /// `date` decides time-conditional includes (nil: treat them all as open).
    public func findPriority(context: String, exten: String, priority: Int, callerID: String? = nil, at date: DialplanClockTime? = nil) -> DialplanPriority? {
        search(context: context, matching: exten, callerID: callerID, at: date) { candidate in
            candidate.pattern.matches(exten) ? candidate.priorities[priority] : nil
        }
    }

    /// The priority number of `label` for `exten` in `context` (for Goto/GotoIf).
    public func findLabel(context: String, exten: String, label: String, callerID: String? = nil, at date: DialplanClockTime? = nil) -> Int? {
        search(context: context, matching: exten, callerID: callerID, at: date) { candidate in
            candidate.pattern.matches(exten) ? candidate.priority(labeled: label) : nil
        }
    }

    /// Whether a call to `exten` in `context` can start (priority 1 exists). The SIP driver asks
    /// this before creating the channel and answers 404 when it is false — through
    /// `DialplanExecutor.hasExtension`, which passes the current time; with `date` nil,
    /// time-conditional includes all count as open.
    public func hasExtension(context: String, exten: String, callerID: String? = nil, at date: DialplanClockTime? = nil) -> Bool {
        findPriority(context: context, exten: exten, priority: 1, callerID: callerID, at: date) != nil
    }

    /// Whether `exten` matches now or could with more digits (Asterisk `ast_canmatch_extension`).
    public func canMatch(context: String, exten: String, callerID: String? = nil, at date: DialplanClockTime? = nil) -> Bool {
        search(context: context, callerID: callerID, at: date) { candidate in
            candidate.pattern.fit(exten, mode: .canMatch) != .no && candidate.priorities[1] != nil ? true : nil
        } ?? false
    }

    /// Whether more digits could still match (Asterisk `ast_matchmore_extension`): keep
    /// collecting digits while this is true. An early match through `!` answers "no" at once,
    /// as Asterisk does, so `_9!` completes as soon as it is unambiguous.
    public func matchMore(context: String, exten: String, callerID: String? = nil, at date: DialplanClockTime? = nil) -> Bool {
        search(context: context, callerID: callerID, at: date) { candidate -> Bool? in
            guard candidate.priorities[1] != nil else { return nil }
            switch candidate.pattern.fit(exten, mode: .matchMore) {
            case .no: return nil
            case .yes: return true
            case .early: return false
            }
        } ?? false
    }

    /// The hint device string for `exten` (`SIP/1001`), searched like any extension.
    public func hint(context: String, exten: String) -> String? {
        search(context: context, matching: exten, callerID: nil, at: nil) { candidate in
            candidate.pattern.matches(exten) ? candidate.hint : nil
        }
    }

    /// Every extension that would match `exten`, in the order they are tried (`dialplan show
    /// exten@context`), with the context each came from.
    public func matchingExtensions(context: String, exten: String, callerID: String? = nil) -> [(context: String, extension: DialplanExtension)] {
        var found: [(String, DialplanExtension)] = []
        var visited = Set<String>()
        func walk(_ name: String, depth: Int) {
            guard depth < Self.maxIncludeDepth, !visited.contains(name), let ctx = contexts[name] else { return }
            visited.insert(name)
            for entry in ctx.extensions where entry.accepts(callerID: callerID) && entry.pattern.matches(exten) {
                found.append((name, entry))
            }
            for include in ctx.includes { walk(include.context, depth: depth + 1) }
        }
        walk(context, depth: 0)
        return found
    }

    /// Priorities whose application isn't registered, for a start-up warning with file:line
    /// (at run time such a priority hangs the call up, as in Asterisk).
    public func prioritiesWithUnknownApplications(_ registry: ApplicationRegistry) -> [DialplanPriority] {
        contexts.values
            .flatMap { $0.extensions.flatMap { $0.priorities.values } }
            .filter { registry[$0.application] == nil }
            .sorted { ($0.location.file, $0.location.line) < ($1.location.file, $1.location.line) }
    }
}
