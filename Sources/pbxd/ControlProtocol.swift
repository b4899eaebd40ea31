import Foundation
import NIOCore
import PBXCore

/// The wire format shared by the control socket and `pbxd -rx`.
enum ControlProtocol {
    static let success = "Response: Success"
    static let failure = "Response: Error"
    /// A longer line is answered with an error and the connection closed.
    static let maxCommandLength = 4096
    /// `sun_path` holds 108 bytes with the terminating NUL on Linux (104 on macOS: the smaller).
    static let maxPathLength = 104
    /// A client that connects and sends no full line within this is disconnected.
    static let commandTimeout: TimeAmount = .seconds(10)

    static func encode(_ result: CLIResult) -> String {
        ([result.succeeded ? success : failure] + result.lines).map { $0 + "\n" }.joined()
    }

    /// The reply split back into its status and output lines (nil when the status line is missing).
    static func decode(_ text: String) -> CLIResult? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard let status = lines.first, status == success || status == failure else { return nil }
        return CLIResult(lines: Array(lines.dropFirst()), succeeded: status == success)
    }
}
