/// MixMonitor's side of a channel: channels whose media pbxd relays can record both directions
/// of their call. A separate protocol from `CallChannel` (the dialplan asks with `as?`), so
/// channel fakes and technologies without a relay need not implement it.
public protocol CallRecording: Sendable {
    /// Starts recording the call into the request's files; they are created now and written as
    /// the call goes, until `stopMixMonitor` or the hangup.
    func startMixMonitor(_ request: MixMonitorRequest) async throws(MixMonitorError)
    /// Stops the recording and closes its files; false when none was running.
    func stopMixMonitor() async -> Bool
}

/// The files of one MixMonitor (absolute paths of 8 kHz 16-bit mono WAVs).
public struct MixMonitorRequest: Sendable, Equatable {
    /// Both directions mixed.
    public var path: String
    /// What this channel's phone sends (`r()`), if asked.
    public var receivePath: String?
    /// What this channel's phone hears (`t()`), if asked.
    public var transmitPath: String?

    public init(path: String, receivePath: String? = nil, transmitPath: String? = nil) {
        self.path = path
        self.receivePath = receivePath
        self.transmitPath = transmitPath
    }
}

public enum MixMonitorError: Error, Equatable, CustomStringConvertible {
    /// A file could not be created.
    case cannotCreate(path: String, reason: String)
    /// This call is already being recorded.
    case alreadyRecording
    /// The channel has no media to record (hung up).
    case noMedia

    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason): "cannot create \(path): \(reason)"
        case .alreadyRecording: "the call is already being recorded"
        case .noMedia: "the channel has no media"
        }
    }
}
