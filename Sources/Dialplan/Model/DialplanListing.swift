import PBXCore

/// `dialplan show [context]` in Asterisk's layout (pbx.c `show_dialplan_helper`): a header per
/// context, each extension's first priority beside its name, the others below (with `[label]`),
/// where each line came from, includes, and the totals line. Contexts are listed by name and
/// extensions in search order.
public enum DialplanListing {
    /// The listing, or nil when `context` is given and doesn't exist.
    public static func lines(_ dialplan: Dialplan, context only: String? = nil) -> [String]? {
        let names = only.map { [$0] } ?? dialplan.contexts.keys.sorted()
        var out: [String] = []
        var extensions = 0
        var priorities = 0
        for name in names {
            guard let context = dialplan.contexts[name] else { return nil }
            out.append("[ Context '\(name)' created by 'pbx_config' ]")
            for entry in context.extensions {
                out += extensionLines(entry)
                extensions += 1
                priorities += entry.priorities.count + (entry.hint == nil ? 0 : 1)
            }
            for include in context.includes {
                let target = include.timing.map { "\(include.context),\($0)" } ?? include.context
                out.append(row("Include =>", "'\(target)'", source(include.location)))
            }
            for pattern in context.ignorePatterns {
                out.append(row("Ignore pattern =>", "'\(pattern)'", "pbx_config"))
            }
            out.append("")
        }
        out.append(
            "-= \(counted(extensions, "extension", "extensions")) (\(counted(priorities, "priority", "priorities"))) in "
                + "\(counted(names.count, "context", "contexts")). =-")
        return out
    }

    static func extensionLines(_ entry: DialplanExtension) -> [String] {
        var head = "'\(entry.pattern.text)' =>"
        if let cid = entry.callerIDMatch { head = "'\(entry.pattern.text)' (CID match '\(cid.text)') =>" }
        var out: [String] = []
        if let hint = entry.hint {
            out.append(row(head, "hint: \(hint)", source(entry.location)))
            head = ""
        }
        for priority in entry.priorities.values.sorted(by: { $0.number < $1.number }) {
            let label = priority.label.map { "[\($0)]" } ?? ""
            let first = head.isEmpty ? label : head
            out.append(
                row(first, "\(priority.number). \(priority.application)(\(priority.arguments))", source(priority.location)))
            head = ""
        }
        return out
    }

    /// `extensions.conf:12`: the file's name without its directory, as Asterisk shows it.
    static func source(_ location: SourceLocation) -> String {
        "\(location.file.split(separator: "/").last.map(String.init) ?? location.file):\(location.line)"
    }

    /// `  %-17s %-45s [%s]`, as Asterisk prints each line.
    static func row(_ name: String, _ body: String, _ source: String) -> String {
        "  " + pad(name, 17) + " " + pad(body, 45) + " [\(source)]"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func counted(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
}
