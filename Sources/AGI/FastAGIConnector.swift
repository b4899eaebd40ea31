import Logging
import NIOCore
import NIOPosix

/// `agi://host[:port][/script]` as res_agi's `launch_netscript` reads it: everything after the
/// first `/` (query included) is the server's business, sent as `agi_network_script`.
struct FastAGIAddress: Equatable {
    var host: String
    var port: Int
    /// Empty when the URL names no script (then no `agi_network_script` line is sent).
    var script: String

    /// FastAGI's registered port.
    static let defaultPort = 4573

    init?(url: String) {
        guard url.lowercased().hasPrefix("agi://") else { return nil }
        var rest = Substring(url.dropFirst("agi://".count))
        if let slash = rest.firstIndex(of: "/") {
            script = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        } else {
            script = ""
        }
        var hostPart = rest
        var portPart: Substring?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { return nil }
        host = String(hostPart)
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else { return nil }
            port = value
        } else {
            port = Self.defaultPort
        }
    }
}

/// Opens the TCP connection to a FastAGI server.
enum FastAGIConnector {
    static func connect(
        to address: FastAGIAddress, group: any EventLoopGroup, timeout: Duration, logger: Logger
    ) async throws -> AGIChannelTransport {
        let (lines, continuation) = AGILineDecoder.makeStream()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AGILineDecoder(continuation: continuation, logger: logger))
                }
            }
            .connect(host: address.host, port: address.port)
            .get()
        channel.closeFuture.whenComplete { _ in continuation.finish() }
        return AGIChannelTransport(channel: channel, lines: lines)
    }
}
