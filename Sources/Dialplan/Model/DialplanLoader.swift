import PBXCore

extension Dialplan {
    /// Loads extensions.conf (and its `#include`s). Malformed lines throw with file:line;
    /// odd-but-valid ones come back as warnings for the caller to log.
    public static func load(path: String) throws(ConfigError) -> (dialplan: Dialplan, warnings: [ConfigWarning]) {
        try build(from: ConfigFile.load(path: path))
    }

    /// Parses extensions.conf text (`fileName` names the errors' locations).
    public static func parse(_ text: String, fileName: String = "extensions.conf") throws(ConfigError) -> (dialplan: Dialplan, warnings: [ConfigWarning]) {
        try build(from: ConfigFile.parse(text, fileName: fileName))
    }

    /// Builds a dialplan from an already parsed INI file.
    public static func build(from config: ConfigFile) throws(ConfigError) -> (dialplan: Dialplan, warnings: [ConfigWarning]) {
        var loader = DialplanLoader()
        for section in config.sections {
            try loader.add(section)
        }
        return loader.finish()
    }
}

/// Turns `ConfigSection`s into contexts, following pbx_config.c's reading of each line.
struct DialplanLoader {
    private var dialplan = Dialplan()
    private var warnings: [ConfigWarning] = []
    /// Per context: extension index by what it matches (+ CID), for `same`, `n` and duplicates.
    private var extensionIndex: [String: [ExtensionSlot: Int]] = [:]

    private struct ExtensionSlot: Hashable {
        var exten: ExtensionPattern.MatchKey
        var callerID: ExtensionPattern.MatchKey?
    }

    private mutating func warn(_ message: String, at location: SourceLocation) {
        warnings.append(ConfigWarning(message, at: location))
    }

    mutating func add(_ section: ConfigSection) throws(ConfigError) {
        switch section.name.lowercased() {
        case "general": readGeneral(section)
        case "globals":
            for entry in section.entries { dialplan.globals[entry.key] = entry.value }
        default: try readContext(section)
        }
    }

    mutating func finish() -> (dialplan: Dialplan, warnings: [ConfigWarning]) {
        for (name, context) in dialplan.contexts {
            for include in context.includes where dialplan.contexts[include.context] == nil {
                warn("context '\(name)' includes unknown context '\(include.context)'", at: include.location)
            }
            for entry in context.extensions where entry.priorities[1] == nil && !entry.priorities.isEmpty {
                warn("extension '\(entry.name)' in '\(name)' has no priority 1; calls cannot start there", at: entry.location)
            }
        }
        return (dialplan, warnings.sorted { ($0.location.file, $0.location.line) < ($1.location.file, $1.location.line) })
    }

    private mutating func readGeneral(_ section: ConfigSection) {
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "autofallthrough":
                dialplan.autoFallthrough = !["no", "false", "0", "off"].contains(entry.value.lowercased())
                if !dialplan.autoFallthrough {
                    warn("autofallthrough=no is not supported; calls that run out of priorities are hung up", at: entry.location)
                }
            case "static", "writeprotect", "clearglobalvars", "extenpatternmatchnew", "userscontext", "priorityjumping":
                break  // Accepted: they concern Asterisk's CLI saving and reload, not call routing.
            default:
                warn("unknown [general] option '\(entry.key)'", at: entry.location)
            }
        }
    }

    // MARK: Contexts

    private mutating func readContext(_ section: ConfigSection) throws(ConfigError) {
        let name = section.name
        if dialplan.contexts[name] == nil {
            dialplan.contexts[name] = DialplanContext(name: name, location: section.location)
        }
        // pbx_config tracks these per section: `same` and `n` refer to the previous line.
        var lastExtension: (exten: String, callerID: String?)?
        var lastPriority: Int?
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "exten", "same":
                try readExtensionLine(entry, context: name, lastExtension: &lastExtension, lastPriority: &lastPriority)
            case "include":
                try readInclude(entry, context: name)
            case "ignorepat":
                dialplan.contexts[name]!.ignorePatterns.append(entry.value)
            case "switch", "eswitch", "lswitch":
                warn("'\(entry.key)' (realtime/DUNDi switches) is not supported; ignored", at: entry.location)
            default:
                warn("unknown key '\(entry.key)' in context '\(name)' (expected exten, same, include)", at: entry.location)
            }
        }
        dialplan.contexts[name]!.extensions.sort(by: DialplanExtension.searchOrder)
        dialplan.contexts[name]!.reindex()
        // Indices shift when sorting; rebuild them for any later section with the same name.
        var index: [ExtensionSlot: Int] = [:]
        for (position, entry) in dialplan.contexts[name]!.extensions.enumerated() {
            index[ExtensionSlot(exten: entry.pattern.matchKey, callerID: entry.callerIDMatch?.matchKey)] = position
        }
        extensionIndex[name] = index
    }

    private mutating func readInclude(_ entry: ConfigEntry, context: String) throws(ConfigError) {
        let fields = entry.value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let target = fields.first, !target.isEmpty else {
            throw ConfigError("include without a context name", at: entry.location)
        }
        var timing: DialplanTiming?
        if fields.count > 1 {
            if fields.count > 6 {
                throw ConfigError("include '\(entry.value)': expected context,times,weekdays,mdays,months[,timezone]", at: entry.location)
            }
            if fields.count == 6 {
                warn("time zone in include '\(entry.value)' is not supported; the server's local time is used", at: entry.location)
            }
            do {
                timing = try DialplanTiming(fields: Array(fields[1..<min(fields.count, 5)]))
            } catch {
                throw ConfigError("include '\(entry.value)': \(error)", at: entry.location)
            }
        }
        if target == context {
            warn("context '\(context)' includes itself; ignored", at: entry.location)
            return
        }
        dialplan.contexts[context]!.includes.append(DialplanInclude(context: target, timing: timing, location: entry.location))
    }

    // MARK: Extension lines

    /// `exten => name[/cid],priority[(label)],Application(args)` or `same => priority,...`.
    private mutating func readExtensionLine(
        _ entry: ConfigEntry, context: String,
        lastExtension: inout (exten: String, callerID: String?)?, lastPriority: inout Int?
    ) throws(ConfigError) {
        let location = entry.location
        var rest = Substring(entry.value)
        let extenText: String
        var callerIDText: String?
        if entry.key.lowercased() == "same" {
            guard let last = lastExtension else {
                throw ConfigError("'same =>' without a preceding 'exten =>' in context '\(context)'", at: location)
            }
            (extenText, callerIDText) = last
        } else {
            guard let comma = Self.firstComma(in: rest) else {
                throw ConfigError("missing priority in '\(entry.value)' (expected exten => name,priority,Application(args))", at: location)
            }
            let name = rest[..<comma].trimmingCharacters(in: .whitespaces)
            rest = rest[rest.index(after: comma)...]
            if let slash = name.firstIndex(of: "/") {
                extenText = String(name[..<slash]).trimmingCharacters(in: .whitespaces)
                callerIDText = String(name[name.index(after: slash)...]).trimmingCharacters(in: .whitespaces)
            } else {
                extenText = name
            }
            guard !extenText.isEmpty else { throw ConfigError("missing extension name in '\(entry.value)'", at: location) }
        }
        let priorityText: String
        let appText: String
        if let comma = rest.firstIndex(of: ",") {
            priorityText = rest[..<comma].trimmingCharacters(in: .whitespaces)
            appText = rest[rest.index(after: comma)...].trimmingCharacters(in: .whitespaces)
        } else {
            priorityText = rest.trimmingCharacters(in: .whitespaces)
            appText = ""
        }
        guard !priorityText.isEmpty else {
            throw ConfigError("missing priority in '\(entry.value)'", at: location)
        }

        let pattern: ExtensionPattern
        var callerIDPattern: ExtensionPattern?
        do {
            pattern = try ExtensionPattern(extenText)
            if let callerIDText, !callerIDText.isEmpty { callerIDPattern = try ExtensionPattern(callerIDText) }
        } catch {
            throw ConfigError(error.description, at: location)
        }
        if pattern.hasTextAfterWildcard {
            warn("characters after '.' or '!' in '\(extenText)' are ignored", at: location)
        }
        let slotIndex = slot(for: pattern, callerID: callerIDPattern, context: context, location: location)
        let isSameExtension = lastExtension.map { $0.exten == extenText && $0.callerID == callerIDText } ?? false
        lastExtension = (extenText, callerIDText)

        if priorityText.lowercased() == "hint" {
            guard !appText.isEmpty else { throw ConfigError("hint for '\(extenText)' without a device", at: location) }
            if dialplan.contexts[context]!.extensions[slotIndex].hint != nil {
                warn("second hint for '\(extenText)' in '\(context)' replaces the first", at: location)
            }
            dialplan.contexts[context]!.extensions[slotIndex].hint = appText
            return
        }

        let (number, label) = try Self.parsePriority(priorityText, lastPriority: lastPriority, location: location)
        if priorityText.lowercased().hasPrefix("n"), lastPriority != nil, !isSameExtension {
            warn("'n' on a new extension '\(extenText)' continues from the previous line's priority (\(number)), as Asterisk does", at: location)
        }
        let (application, arguments) = try parseApplication(appText, location: location)
        var extensionEntry = dialplan.contexts[context]!.extensions[slotIndex]
        if let existing = extensionEntry.priorities[number] {
            throw ConfigError("duplicate priority \(number) for '\(extensionEntry.name)' in context '\(context)' (first at \(existing.location))", at: location)
        }
        if let label, let other = extensionEntry.priority(labeled: label) {
            throw ConfigError("duplicate label '\(label)' for '\(extensionEntry.name)' (already priority \(other))", at: location)
        }
        extensionEntry.priorities[number] = DialplanPriority(number: number, label: label, application: application, arguments: arguments, location: location)
        dialplan.contexts[context]!.extensions[slotIndex] = extensionEntry
        lastPriority = number
    }

    /// The index of the extension entry for this name (+ CID) in `context`, creating it.
    private mutating func slot(for pattern: ExtensionPattern, callerID: ExtensionPattern?, context: String, location: SourceLocation) -> Int {
        let key = ExtensionSlot(exten: pattern.matchKey, callerID: callerID?.matchKey)
        if let index = extensionIndex[context]?[key] { return index }
        dialplan.contexts[context]!.extensions.append(DialplanExtension(pattern: pattern, callerIDMatch: callerID, location: location))
        let index = dialplan.contexts[context]!.extensions.count - 1
        extensionIndex[context, default: [:]][key] = index
        return index
    }

    /// The first comma not inside `[...]` (a set may list `,` as a character).
    static func firstComma(in text: Substring) -> Substring.Index? {
        var depth = 0
        for index in text.indices {
            switch text[index] {
            case "[": depth += 1
            case "]": depth = max(0, depth - 1)
            case "," where depth == 0: return index
            default: continue
            }
        }
        return nil
    }

    /// `1`, `n`/`next`, `s`/`same`, each optionally followed by `(label)`.
    static func parsePriority(_ text: String, lastPriority: Int?, location: SourceLocation) throws(ConfigError) -> (Int, String?) {
        var base = Substring(text)
        var label: String?
        if let open = text.firstIndex(of: "(") {
            guard text.hasSuffix(")") else { throw ConfigError("priority label '\(text)' without closing ')'", at: location) }
            let name = text[text.index(after: open)..<text.index(before: text.endIndex)].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw ConfigError("empty label in priority '\(text)'", at: location) }
            label = name
            base = text[..<open]
        }
        let word = base.trimmingCharacters(in: .whitespaces).lowercased()
        switch word {
        case "n", "next":
            guard let lastPriority else {
                throw ConfigError("priority 'n' on the first line of a context has nothing to follow", at: location)
            }
            return (lastPriority + 1, label)
        case "s", "same":
            guard let lastPriority else {
                throw ConfigError("priority 's' on the first line of a context has nothing to repeat", at: location)
            }
            return (lastPriority, label)
        default:
            guard let number = Int(word), number > 0 else {
                throw ConfigError("invalid priority '\(text)' (expected a number > 0, n, n(label) or hint)", at: location)
            }
            return (number, label)
        }
    }

    /// `Dial(SIP/1001,20)` → ("Dial", "SIP/1001,20"); `Answer` → ("Answer", "").
    private mutating func parseApplication(_ text: String, location: SourceLocation) throws(ConfigError) -> (String, String) {
        guard !text.isEmpty else { throw ConfigError("missing application", at: location) }
        guard let open = text.firstIndex(of: "(") else {
            if let comma = text.firstIndex(of: ",") {
                warn("old 'App,args' syntax; write App(args)", at: location)
                return (text[..<comma].trimmingCharacters(in: .whitespaces), String(text[text.index(after: comma)...]))
            }
            return (text, "")
        }
        let name = text[..<open].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "," || $0 == ")" }) else {
            throw ConfigError("invalid application name in '\(text)'", at: location)
        }
        let afterOpen = text[text.index(after: open)...]
        guard let close = afterOpen.lastIndex(of: ")") else {
            warn("no closing parenthesis in '\(text)'; using the rest of the line as arguments", at: location)
            return (name, String(afterOpen))
        }
        let trailing = afterOpen[afterOpen.index(after: close)...].trimmingCharacters(in: .whitespaces)
        if !trailing.isEmpty {
            warn("text after ')' ignored: '\(trailing)'", at: location)
        }
        return (name, String(afterOpen[..<close]))
    }
}
