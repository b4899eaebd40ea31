import NIOCore
import NIOHTTP1
import NIOPosix

/// Sends one HTTP/1.1 POST on a fresh connection and returns the response status: a small client
/// on swift-nio's HTTP/1 codec (one request per connection, `Connection: close`), enough for
/// webhook delivery without another package.
struct HTTPPoster: Sendable {
    let group: any EventLoopGroup

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func post(to url: WebhookURL, headers extra: [(String, String)], body: [UInt8], timeout: TimeAmount) async throws -> Int {
        let loop = group.next()
        let status = loop.makePromise(of: Int.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseStatusHandler(status: status))
                }
            }
            .connect(host: url.host, port: url.port)
            .get()
        } catch {
            // Every promise must be completed (NIO checks in debug builds).
            status.fail(error)
            throw error
        }
        let timer = loop.scheduleTask(in: timeout) { status.fail(Failure(description: "no response within \(timeout)")) }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.port == 80 ? url.host : "\(url.host):\(url.port)")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "User-Agent", value: "pbxd-webhooks")
        for (name, value) in extra { headers.add(name: name, value: value) }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: url.target, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        return try await status.futureResult.get()
    }
}

/// Completes the promise with the response's status code (the body is read and ignored), or
/// fails it when the connection ends first.
private final class ResponseStatusHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let status: EventLoopPromise<Int>
    private var code: Int?

    init(status: EventLoopPromise<Int>) {
        self.status = status
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): code = Int(head.status.code)
        case .body: break
        case .end: status.succeed(code ?? 0)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        status.fail(HTTPPoster.Failure(description: "connection closed before the response"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        status.fail(error)
        context.close(promise: nil)
    }
}
