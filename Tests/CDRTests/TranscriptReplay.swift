import Foundation
import PBXCore

/// Turns a captured Asterisk AMI transcript (Fixtures/, from shared/reference/transcripts) into
/// the bus events it shows, stamped with real times, so the CDR engine can be fed what Asterisk
/// saw and its output compared with the `Cdr` events Asterisk printed.
///
/// Times: the capture's `## [t=…]` annotations give seconds from the start of the capture;
/// `base` maps them to the epoch (chosen so the Uniqueid epochs and the Cdr times agree).
/// Annotations are coarse (one line before a whole call set-up), so `marks` move the clock at
/// the n-th event of a name (an answer's DialEnd, a BYE's HangupRequest).
struct TranscriptReplay {
    struct Mark {
        var event: String
        var occurrence: Int
        var t: Double
    }

    var events: [ManagerEvent] = []
    /// The transcript's own `Cdr` events (the expected output), in order.
    var cdrEvents: [ManagerEvent] = []

    init(fixture: String, base: Double, marks: [Mark] = []) throws {
        guard let url = Bundle.module.url(forResource: fixture, withExtension: "txt", subdirectory: "Fixtures") else {
            throw ReplayError("fixture \(fixture) missing")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        var t = 0.0
        var block: [ManagerEvent.Field] = []
        var seen: [String: Int] = [:]
        func flush() {
            defer { block = [] }
            guard let name = block.first(where: { $0.key == "Event" })?.value else { return }
            seen[name, default: 0] += 1
            if let mark = marks.first(where: { $0.event == name && $0.occurrence == seen[name] }) { t = mark.t }
            let fields = block.filter { $0.key != "Event" && $0.key != "Privilege" }
            let event = ManagerEvent(name: name, class: .call, fields: fields, timestamp: base + t)
            if name == "Cdr" { cdrEvents.append(event) } else { events.append(event) }
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## [t=") {
                let number = line.dropFirst(6).prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces)
                t = Double(number) ?? t
                continue
            }
            guard line.hasPrefix(">> ") else { continue }
            let content = line.dropFirst(3).replacingOccurrences(of: "\\r\\n", with: "")
            if content.isEmpty {
                flush()
            } else if let colon = content.range(of: ": ") {
                block.append(.init(String(content[..<colon.lowerBound]), String(content[colon.upperBound...])))
            } else if content.hasSuffix(":") {
                block.append(.init(String(content.dropLast()), ""))
            }
        }
        flush()
    }

    /// Runs every event through `engine` and returns the records as AMI `Cdr` events (UTC:
    /// the capture machine ran in UTC).
    func run(_ engine: inout CDREngine) -> [ManagerEvent] {
        events.flatMap { engine.handle($0) }.map { $0.managerEvent(utc: true) }
    }
}

struct ReplayError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
