import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import PBXCore
import Storage
import Testing
@testable import Webhooks

/// A CRM on loopback that answers each POST with the next status of its script (200 when the
/// script is used up) and keeps what it was sent.
final class ScriptedCRM: Sendable {
    struct Post: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    let port: Int
    private let channel: any Channel
    private let state: NIOLockedValueBox<(script: [Int], posts: [Post])>

    init(statuses: [Int]) throws {
        let state = NIOLockedValueBox((script: statuses, posts: [Post]()))
        self.state = state
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress!.port!
    }

    var posts: [Post] { state.withLockedValue { $0.posts } }

    func close() { try? channel.close().wait() }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: NIOLockedValueBox<(script: [Int], posts: [Post])>
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(state: NIOLockedValueBox<(script: [Int], posts: [Post])>) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body(let buffer): body += buffer.readableBytesView
            case .end:
                var headers: [String: String] = [:]
                for (name, value) in head?.headers ?? [:] { headers[name.lowercased()] = value }
                let status = state.withLockedValue { state -> Int in
                    let status = state.script.isEmpty ? 200 : state.script.removeFirst()
                    state.posts.append(Post(status: status, headers: headers, body: body))
                    return status
                }
                var response = HTTPHeaders()
                response.add(name: "Content-Length", value: "2")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: response))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                body = []
            }
        }
    }
}

@Suite struct WebhookDeliveryTests {
    private func config(port: Int) throws -> WebhookConfig {
        let path = NSTemporaryDirectory() + "wh-\(UUID().uuidString).conf"
        try "[webhook crm]\nurl=http://127.0.0.1:\(port)/events\nsecret=k\nmaxbackoff=1\n".write(toFile: path, atomically: true, encoding: .utf8)
        return try WebhookConfig.all(in: ConfigFile.load(path: path)).configs[0]
    }

    private func call(_ bus: EventBus, _ id: String) {
        let block: [ManagerEvent.Field] = [.init("CallerIDNum", "5551234"), .init("Exten", "600"), .init("Uniqueid", id), .init("Linkedid", id)]
        bus.publish(ManagerEvent(name: "Newchannel", class: .call, fields: block))
        bus.publish(ManagerEvent(name: "Hangup", class: .call, fields: block + [.init("Cause", "16")]))
    }

    @Test func serverErrorsAreRetriedRefusalsSkippedAndOrderKept() async throws {
        // call 1's incoming: 503 then 500 (retried); its ended: 400 (skipped); call 2: 200s.
        let crm = try ScriptedCRM(statuses: [503, 500, 200, 400])
        defer { crm.close() }
        let bus = EventBus()
        let service = try WebhookService(
            configs: [try config(port: crm.port)], storage: Storage(directory: NSTemporaryDirectory() + "wh-\(UUID().uuidString)"),
            group: MultiThreadedEventLoopGroup.singleton)
        let task = Task { await service.run(bus: bus) }
        defer { task.cancel() }
        while bus.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        call(bus, "1.1")
        call(bus, "1.2")
        let deadline = ContinuousClock.now + .seconds(10)
        while crm.posts.count < 6, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let posts = crm.posts
        #expect(posts.map(\.status) == [503, 500, 200, 400, 200, 200])
        let events = posts.map { try? JSONDecoder().decode(WebhookEvent.self, from: Data($0.body)) }
        #expect(events.map { $0?.event } == ["call.incoming", "call.incoming", "call.incoming", "call.ended", "call.incoming", "call.ended"])
        #expect(events.map { $0?.call } == ["1.1", "1.1", "1.1", "1.1", "1.2", "1.2"])
        #expect(events[0]?.id == events[2]?.id, "a retry carries the same id")
        for post in posts {
            #expect(post.headers["x-pbxd-signature"] == "sha256=" + WebhookService.signature(post.body, secret: "k"))
            #expect(post.headers["x-pbxd-delivery"] == (try? JSONDecoder().decode(WebhookEvent.self, from: Data(post.body)))?.id)
        }
    }
}
