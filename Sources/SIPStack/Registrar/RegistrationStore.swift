import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps registrations across restarts: the whole binding table as one JSON file in the data
/// directory, replaced atomically (write a temporary file, fsync it, rename over the old one,
/// fsync the directory) on every change. REGISTER rates are low (one per phone per
/// `defaultexpiry`), so rewriting the file is cheap; this moves to the SQLite store (DESIGN.md §6)
/// when that lands.
public struct RegistrationStore: Sendable {
    public let path: String

    public init(directory: String, fileName: String = "registrations.json") {
        self.path = (directory as NSString).appendingPathComponent(fileName)
    }

    public enum StoreError: Error, Sendable, CustomStringConvertible {
        case io(String, errno: Int32)
        case corrupt(String)

        public var description: String {
            switch self {
            case .io(let what, let code): "\(what): \(String(cString: strerror(code)))"
            case .corrupt(let why): "corrupt registration file: \(why)"
            }
        }
    }

    /// Writes all bindings, replacing the previous file atomically (creating the data directory
    /// if needed). Blocking file I/O: call it from the registrar's owner off the event loops.
    public func save(_ bindings: [RegistrarBinding]) throws(StoreError) {
        let file = StoredFile(version: 1, bindings: bindings.map(StoredBinding.init))
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .secondsSince1970
            data = try encoder.encode(file)
        } catch {
            throw .corrupt("cannot encode: \(error)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .io("create \(directory)", errno: errno)
            }
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw .io("open \(temporary)", errno: errno) }
        var failure: StoreError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = .io("write \(temporary)", errno: errno)
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = .io("fsync \(temporary)", errno: errno) }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .io("rename \(temporary) to \(path)", errno: code)
        }
        // Make the rename itself durable.
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    /// Reads the bindings saved by `save`, dropping those already expired at `now`. A missing
    /// file is an empty table (first start).
    public func load(now: Date) throws(StoreError) -> [RegistrarBinding] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .io("read \(path)", errno: errno)
        }
        let file: StoredFile
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .secondsSince1970
            file = try decoder.decode(StoredFile.self, from: data)
        } catch {
            throw .corrupt("\(path): \(error)")
        }
        guard file.version == 1 else { throw .corrupt("\(path): unknown version \(file.version)") }
        return file.bindings.map { $0.binding }.filter { !$0.isExpired(now: now) }
    }
}

/// The on-disk form (kept apart from the model types so the model need not be `Codable`).
private struct StoredFile: Codable {
    var version: Int
    var bindings: [StoredBinding]
}

private struct StoredBinding: Codable {
    struct URI: Codable {
        var scheme: String
        var user: String?
        var password: String?
        var host: String
        var port: Int?
        var parameters: [[String]]
        var headers: String?
    }

    var aor: String
    var contact: URI
    var source: RegistrationSource
    var expiresAt: Date
    var registeredAt: Date
    var callID: String
    var cseq: UInt32
    var userAgent: String?
    var instanceID: String?

    init(_ binding: RegistrarBinding) {
        let uri = binding.contact
        aor = binding.aor
        contact = URI(
            scheme: uri.scheme, user: uri.user, password: uri.password, host: uri.host, port: uri.port,
            parameters: uri.parameters.items.map { [$0.name] + ($0.value.map { [$0] } ?? []) }, headers: uri.headers)
        source = binding.source
        expiresAt = binding.expiresAt
        registeredAt = binding.registeredAt
        callID = binding.callID
        cseq = binding.cseq
        userAgent = binding.userAgent
        instanceID = binding.instanceID
    }

    var binding: RegistrarBinding {
        let parameters = SIPParameters(
            contact.parameters.compactMap { pair in
                pair.first.map { SIPParameters.Parameter(name: $0, value: pair.count > 1 ? pair[1] : nil) }
            })
        let uri = SIPURI(
            scheme: contact.scheme, user: contact.user, password: contact.password, host: contact.host,
            port: contact.port, parameters: parameters, headers: contact.headers)
        return RegistrarBinding(
            aor: aor, contact: uri, source: source, expiresAt: expiresAt, registeredAt: registeredAt,
            callID: callID, cseq: cseq, userAgent: userAgent, instanceID: instanceID)
    }
}
