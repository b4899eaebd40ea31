import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// One connection of pbxd's HTTP port: routes each request (`HTTPRoute`), answers `/health`
/// and refusals at once, and sends a recording with `sendfile` (a `FileRegion`) after opening
/// it on the thread pool. Requests on a keep-alive connection are answered in order
/// (`HTTPServerPipelineHandler` holds the next one back); request bodies are discarded.
final class HTTPRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let signer: RecordingLinkSigner?
    private let files: RecordingFiles
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private var request: HTTPRequestHead?

    init(signer: RecordingLinkSigner?, files: RecordingFiles, threadPool: NIOThreadPool, logger: Logger) {
        self.signer = signer
        self.files = files
        self.threadPool = threadPool
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let route = HTTPRoute.route(method: head.method.rawValue, target: head.uri, signer: signer, now: Date())
        switch route {
        case .health:
            sendText(.ok, "OK\n", head: head, context: context)
        case .refuse(let status, _):
            if status == 403 { logger.notice("HTTP request refused", metadata: ["method": "\(head.method)", "status": "403"]) }
            var extra: [(String, String)] = []
            if status == 405 { extra.append(("Allow", "GET, HEAD")) }
            sendText(HTTPResponseStatus(statusCode: status), "\(HTTPResponseStatus(statusCode: status).reasonPhrase)\n",
                     head: head, context: context, extra: extra)
        case .recording(let path):
            let files = self.files
            threadPool.runIfActive(eventLoop: context.eventLoop) { () -> RecordingFiles.OpenFile? in files.openServable(path) }
                .assumeIsolated()
                .whenComplete { result in
                    guard case .success(let file?) = result else {
                        self.sendText(.notFound, "Not Found\n", head: head, context: context)
                        return
                    }
                    self.sendFile(file, head: head, context: context)
                }
        }
    }

    private func sendFile(_ file: RecordingFiles.OpenFile, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: file.descriptor)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: file.contentType)
        headers.add(name: "Content-Length", value: String(file.size))
        headers.add(name: "Cache-Control", value: "private, no-store")
        context.write(wrapOutboundOut(.head(response(.ok, head: head, headers: headers))), promise: nil)
        if head.method == .GET && file.size > 0 {
            context.write(wrapOutboundOut(.body(.fileRegion(FileRegion(fileHandle: handle, readerIndex: 0, endIndex: file.size)))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        done.assumeIsolated().whenComplete { _ in
            try? handle.close()
            if !keepAlive { context.close(promise: nil) }
        }
    }

    private func sendText(_ status: HTTPResponseStatus, _ text: String, head: HTTPRequestHead, context: ChannelHandlerContext,
                          extra: [(String, String)] = []) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        for (name, value) in extra { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(response(status, head: head, headers: headers))), promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil) }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }

    private func response(_ status: HTTPResponseStatus, head: HTTPRequestHead, headers: HTTPHeaders) -> HTTPResponseHead {
        var headers = headers
        headers.add(name: "Server", value: "pbxd")
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: head.version, status: status, headers: headers)
    }
}
