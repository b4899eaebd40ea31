import Foundation

/// Where a config line came from, for errors and warnings that name `file:line`.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
    public var description: String { "\(file):\(line)" }
}

/// A configuration problem that stops start-up (or a reload), always with its location.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String
    public init(_ message: String, at location: SourceLocation?) {
        self.message = message
        self.location = location
    }
    public var description: String { location.map { "\($0): \(message)" } ?? message }
}

/// `key = value` or `key => value`, as written (value trimmed, comment removed).
public struct ConfigEntry: Sendable, Hashable {
    public var key: String
    public var value: String
    /// True for `=>` (object definitions in Asterisk: `exten =>`, `member =>`).
    public var isArrow: Bool
    public var location: SourceLocation
    public init(key: String, value: String, isArrow: Bool, location: SourceLocation) {
        self.key = key
        self.value = value
        self.isArrow = isArrow
        self.location = location
    }
}

/// One `[section]` with its entries; template entries (`[peer](tpl)`) are already merged in
/// front of the section's own entries, so later keys override the template's.
public struct ConfigSection: Sendable {
    public var name: String
    /// Names of the templates this section inherits, in order.
    public var templates: [String]
    public var entries: [ConfigEntry]
    public var location: SourceLocation

    public init(name: String, templates: [String] = [], entries: [ConfigEntry] = [], location: SourceLocation) {
        self.name = name
        self.templates = templates
        self.entries = entries
        self.location = location
    }

    /// The last value given for a key (Asterisk's "last one wins" for scalar options).
    public subscript(key: String) -> String? {
        entries.last { $0.key.lowercased() == key.lowercased() }?.value
    }

    /// Every entry with this key, in order (for repeatable keys: `allow`, `permit`, `member`).
    public func all(_ key: String) -> [ConfigEntry] {
        entries.filter { $0.key.lowercased() == key.lowercased() }
    }
}

/// An Asterisk-style INI file (DESIGN.md §4): `[section]`, `key=value`, `key => value`,
/// `;` comments (`\;` escapes a literal semicolon), `#include file`, templates `[name](!)`,
/// and `[name](template1,template2)`. Template sections are not listed in `sections`.
public struct ConfigFile: Sendable {
    /// Ordinary sections in file order. The same name may appear twice (Asterisk allows it).
    public var sections: [ConfigSection]
    public var templates: [String: ConfigSection]

    public init(sections: [ConfigSection] = [], templates: [String: ConfigSection] = [:]) {
        self.sections = sections
        self.templates = templates
    }

    /// The first section with this name.
    public func section(_ name: String) -> ConfigSection? {
        sections.first { $0.name == name }
    }

    /// Reads and parses a file; `#include` paths resolve relative to its directory.
    public static func load(path: String) throws(ConfigError) -> ConfigFile {
        var parser = ConfigParser()
        try parser.parseFile(path: path, includeDepth: 0)
        return parser.result
    }

    /// Parses text; `fileName` is used for error locations and to resolve `#include`.
    public static func parse(_ text: String, fileName: String) throws(ConfigError) -> ConfigFile {
        var parser = ConfigParser()
        try parser.parse(text: text, fileName: fileName, includeDepth: 0)
        return parser.result
    }
}

/// The line-by-line state machine behind `ConfigFile`.
struct ConfigParser {
    static let maxIncludeDepth = 10
    private var sections: [ConfigSection] = []
    private var templates: [String: ConfigSection] = [:]
    private var current: ConfigSection?
    private var currentIsTemplate = false

    var result: ConfigFile {
        var copy = self
        copy.closeSection()
        return ConfigFile(sections: copy.sections, templates: copy.templates)
    }

    mutating func parseFile(path: String, includeDepth: Int, from location: SourceLocation? = nil) throws(ConfigError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError("cannot read \(path): \(error.localizedDescription)", at: location)
        }
        try parse(text: text, fileName: path, includeDepth: includeDepth)
    }

    mutating func parse(text: String, fileName: String, includeDepth: Int) throws(ConfigError) {
        var lineNumber = 0
        var comment = BlockComment()
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let location = SourceLocation(file: fileName, line: lineNumber)
            let line = Self.stripComment(rawLine, block: &comment, at: location).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#include") || line.hasPrefix("#tryinclude") {
                try include(line, fileName: fileName, depth: includeDepth, location: location)
            } else if line.hasPrefix("[") {
                try openSection(line, location: location)
            } else {
                try addEntry(line, location: location)
            }
        }
        if let start = comment.openedAt.first {
            throw ConfigError("unterminated ';--' block comment (it hides the rest of the file)", at: start)
        }
    }

    /// Open `;-- ... --;` block comments (Asterisk nests them), carried from line to line.
    struct BlockComment {
        var openedAt: [SourceLocation] = []
        var isOpen: Bool { !openedAt.isEmpty }
    }

    /// Removes comments the way Asterisk's config.c does: `;` starts a comment to the end of the
    /// line unless escaped as `\;` (which becomes a literal `;`); `;--` (not `;---`, so rulers
    /// like `;-----;` stay line comments) opens a block comment, possibly nested and spanning
    /// lines, closed by `--;`; text before and after a block comment on the same line is kept.
    static func stripComment(_ line: Substring, block: inout BlockComment, at location: SourceLocation) -> String {
        let chars = Array(line)
        var out = ""
        var index = 0
        // Where scanning resumed after the last opener/closer: a closer's dashes must lie after
        // it, so `;--;` does not close itself.
        var scanStart = 0
        while index < chars.count {
            let ch = chars[index]
            if ch == "\r" {
                index += 1
                continue
            }
            guard ch == ";" else {
                if !block.isOpen { out.append(ch) }
                index += 1
                continue
            }
            if index > 0, chars[index - 1] == "\\" {
                if !block.isOpen {
                    out.removeLast()
                    out.append(";")
                }
                index += 1
            } else if index + 2 < chars.count, chars[index + 1] == "-", chars[index + 2] == "-",
                      index + 3 >= chars.count || chars[index + 3] != "-" {
                block.openedAt.append(location)
                index += 3
                scanStart = index
            } else if block.isOpen, index - 2 >= scanStart, chars[index - 1] == "-", chars[index - 2] == "-" {
                block.openedAt.removeLast()
                index += 1
                scanStart = index
            } else if block.isOpen {
                index += 1
            } else {
                break
            }
        }
        return out
    }

    private mutating func include(_ line: String, fileName: String, depth: Int, location: SourceLocation) throws(ConfigError) {
        let optional = line.hasPrefix("#tryinclude")
        var target = String(line.dropFirst(optional ? 11 : 8)).trimmingCharacters(in: .whitespaces)
        target = target.trimmingCharacters(in: CharacterSet(charactersIn: "\"<>"))
        guard !target.isEmpty else { throw ConfigError("#include without a file name", at: location) }
        guard depth < Self.maxIncludeDepth else { throw ConfigError("#include nested too deeply (loop?)", at: location) }
        let directory = (fileName as NSString).deletingLastPathComponent
        let path = target.hasPrefix("/") ? target : (directory as NSString).appendingPathComponent(target)
        if optional && !FileManager.default.fileExists(atPath: path) { return }
        try parseFile(path: path, includeDepth: depth + 1, from: location)
    }

    private mutating func openSection(_ line: String, location: SourceLocation) throws(ConfigError) {
        guard let close = line.firstIndex(of: "]") else {
            throw ConfigError("section header without closing ']'", at: location)
        }
        let name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw ConfigError("empty section name", at: location) }
        closeSection()
        var section = ConfigSection(name: name, location: location)
        var isTemplate = false
        let rest = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
        if !rest.isEmpty {
            guard rest.hasPrefix("("), rest.hasSuffix(")") else {
                throw ConfigError("unexpected text after section header: \(rest)", at: location)
            }
            for option in rest.dropFirst().dropLast().split(separator: ",") {
                let option = option.trimmingCharacters(in: .whitespaces)
                if option == "!" {
                    isTemplate = true
                } else if option == "+" {
                    if let existing = sections.lastIndex(where: { $0.name == name }) {
                        section = sections.remove(at: existing)
                    }
                } else if let template = templates[option] {
                    section.templates.append(option)
                    section.entries.append(contentsOf: template.entries)
                } else {
                    throw ConfigError("unknown template '\(option)' (templates must be defined before use)", at: location)
                }
            }
        }
        current = section
        currentIsTemplate = isTemplate
    }

    private mutating func addEntry(_ line: String, location: SourceLocation) throws(ConfigError) {
        guard let equals = line.firstIndex(of: "=") else {
            throw ConfigError("expected 'key = value' or 'key => value', found '\(line)'", at: location)
        }
        let afterEquals = line.index(after: equals)
        let isArrow = afterEquals < line.endIndex && line[afterEquals] == ">"
        let key = line[..<equals].trimmingCharacters(in: .whitespaces)
        let value = line[(isArrow ? line.index(after: afterEquals) : afterEquals)...].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty else { throw ConfigError("missing key before '='", at: location) }
        guard current != nil else { throw ConfigError("'\(key)' outside of any [section]", at: location) }
        current!.entries.append(ConfigEntry(key: key, value: value, isArrow: isArrow, location: location))
    }

    private mutating func closeSection() {
        guard let section = current else { return }
        if currentIsTemplate { templates[section.name] = section } else { sections.append(section) }
        current = nil
    }
}
