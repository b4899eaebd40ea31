import Foundation

/// A socket path that fits `sun_path`. A data directory deep enough to make the full path too
/// long (test artifacts, long install prefixes) is reached on Linux through
/// `/proc/self/fd/<fd of the directory>/pbxd.ctl`, which bind() and connect() resolve like the
/// full path; the directory descriptor is only needed until the call returns.
struct ControlSocketAddress {
    let bindable: String
    private let directoryDescriptor: Int32?

    init?(path: String) {
        if path.utf8.count < ControlProtocol.maxPathLength {
            bindable = path
            directoryDescriptor = nil
            return
        }
        #if os(Linux)
            let directory = (path as NSString).deletingLastPathComponent
            let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else { return nil }
            bindable = "/proc/self/fd/\(descriptor)/" + (path as NSString).lastPathComponent
            directoryDescriptor = descriptor
        #else
            return nil
        #endif
    }

    func close() {
        if let directoryDescriptor { _ = Foundation.close(directoryDescriptor) }
    }
}
