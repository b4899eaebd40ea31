import Foundation
import PBXCore

/// cdr_csv: one line per record in `<datadir>/cdr-csv/Master.csv` (and `<accountcode>.csv`
/// with `accountlogs`), in Asterisk's column order and quoting (cdr-queue-log.md §3). Each
/// line is written with one `write(2)` on an `O_APPEND` descriptor and fsynced before the
/// batch counts as done, so a crash never leaves half a line.
public final class CSVBackend: Sendable {
    public let directory: String
    private let options: CDRConfig.CSVOptions

    public init(directory: String, options: CDRConfig.CSVOptions) throws {
        self.directory = directory
        self.options = options
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageFailure("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    /// Appends the records' lines and fsyncs each file written.
    public func write(_ records: [CallDetailRecord]) throws {
        var lines: [String: String] = [:]
        for record in records {
            let line = Self.line(for: record, options: options)
            lines["Master.csv", default: ""] += line
            if options.accountLogs, Self.isSafeFileName(record.accountCode) {
                lines[record.accountCode + ".csv", default: ""] += line
            }
        }
        for (file, text) in lines.sorted(by: { $0.key < $1.key }) {
            try append(text, to: (directory as NSString).appendingPathComponent(file))
        }
    }

    /// One Master.csv line, LF-terminated: strings quoted with `"` doubled, integers bare,
    /// dates quoted (`usegmtime` or local), an unset date an empty unquoted field.
    public static func line(for record: CallDetailRecord, options: CDRConfig.CSVOptions) -> String {
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        func date(_ epoch: Double?) -> String {
            guard let epoch else { return "" }
            return quoted(CDRTimestamp.text(epoch, utc: options.useGMTime))
        }
        var fields = [
            quoted(record.accountCode), quoted(record.source), quoted(record.destination),
            quoted(record.destinationContext), quoted(record.callerID), quoted(record.channel),
            quoted(record.destinationChannel), quoted(record.lastApplication), quoted(record.lastData),
            date(record.start), date(record.answer), date(record.end),
            String(record.duration), String(record.billableSeconds),
            quoted(record.disposition.rawValue), quoted(record.amaFlags.rawValue),
        ]
        if options.logUniqueID { fields.append(quoted(record.uniqueID)) }
        if options.logUserField { fields.append(quoted(record.userField)) }
        if options.newColumns {
            fields += [quoted(record.peerAccount), quoted(record.linkedID), String(record.sequence)]
        }
        return fields.joined(separator: ",") + "\n"
    }

    /// Asterisk refuses account codes that would leave the directory (`/`, leading `.`).
    static func isSafeFileName(_ accountCode: String) -> Bool {
        !accountCode.isEmpty && !accountCode.contains("/") && !accountCode.hasPrefix(".")
    }

    private func append(_ text: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StorageFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            guard result > 0 else {
                if result < 0 && errno == EINTR { continue }
                throw StorageFailure("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += result
        }
        guard fsync(descriptor) == 0 else { throw StorageFailure("cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }
}

/// A backend could not store a record; the message names the file or server and why.
public struct StorageFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
