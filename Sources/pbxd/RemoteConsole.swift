import Foundation
import NIOCore
import NIOPosix
import PBXCore

/// `pbxd -rx "command"`: sends one console command to the running pbxd over its control socket
/// (`ControlSocket`) and returns the reply. A pbxd that isn't running is an error that says so.
enum RemoteConsole {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `command` on the pbxd whose data directory is `dataDirectory`.
    static func run(_ command: String, dataDirectory: String) async throws(Failure) -> CLIResult {
        let path = (dataDirectory as NSString).appendingPathComponent(ControlSocket.fileName)
        guard !command.contains("\n") else { throw Failure(description: "a command is one line") }
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(description: "pbxd is not running (no control socket at \(path))")
        }
        let text: String
        do {
            text = try await exchange(command + "\n", path: path)
        } catch let error as IOError where [ECONNREFUSED, ENOENT].contains(error.errnoCode) {
            throw Failure(description: "pbxd is not running (nothing answers on \(path))")
        } catch {
            throw Failure(description: "cannot talk to pbxd on \(path): \(error)")
        }
        guard let result = ControlProtocol.decode(text) else {
            throw Failure(description: "pbxd on \(path) gave no answer to '\(command)'")
        }
        return result
    }

    /// Whether a pbxd answers on `path` (start-up refuses to take over a live socket).
    static func isAnswering(path: String) async -> Bool {
        guard let text = try? await exchange("core show version\n", path: path) else { return false }
        return ControlProtocol.decode(text) != nil
    }

    /// Connects, writes `request`, and reads until pbxd closes the connection.
    private static func exchange(_ request: String, path: String) async throws -> String {
        guard let address = ControlSocketAddress(path: path) else {
            throw Failure(description: "control socket path '\(path)' is too long")
        }
        defer { address.close() }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(unixDomainSocketPath: address.bindable) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var reply = ByteBuffer()
            for try await var chunk in inbound {
                reply.writeBuffer(&chunk)
            }
            return String(buffer: reply)
        }
    }
}
