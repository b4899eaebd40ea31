#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Opens a recording for serving: its real path (symbolic links resolved) must still be inside
/// the recordings directory, it must be a regular `.wav`, `.ogg` or `.opus` file, and it is opened without
/// following a link swapped in since. Blocking: run it off the event loop.
struct RecordingFiles: Sendable {
    /// The recordings directory as given (its real path is taken at each open, so a directory
    /// created after start-up is found).
    let directory: String

    struct OpenFile {
        var descriptor: CInt
        var size: Int
        var contentType: String
    }

    static let contentTypes = ["wav": "audio/wav", "ogg": "audio/ogg", "opus": "audio/ogg"]

    /// The open file, or nil when there is no such servable file.
    func openServable(_ relative: String) -> OpenFile? {
        guard RecordingPath.isSafe(relative),
              let type = Self.contentTypes[(relative as NSString).pathExtension.lowercased()],
              let root = Self.realPath(directory),
              let real = Self.realPath((root as NSString).appendingPathComponent(relative)),
              real.hasPrefix(root + "/")
        else { return nil }
        let descriptor = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            return nil
        }
        return OpenFile(descriptor: descriptor, size: Int(info.st_size), contentType: type)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
