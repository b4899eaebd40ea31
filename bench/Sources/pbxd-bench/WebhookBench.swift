import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import PBXCore
import Storage
import Webhooks

/// `pbxd-bench webhooks [calls]`: webhook events delivered per second end to end — bus →
/// mapper → outbox (a pbxd.sqlite row, fsync per event) → signed POST on a new connection → an in-process HTTP
/// server answering 200 on loopback. Each call is a Newchannel and a Hangup, giving
/// `call.incoming` and `call.ended`.
func runWebhookBench(arguments: [String]) {
    let calls = arguments.first.flatMap(Int.init) ?? 1000
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let received = NIOLockedValueBox(0)
    let server = try! ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                try channel.pipeline.syncOperations.addHandler(OKResponder(received: received))
            }
        }
        .bind(host: "127.0.0.1", port: 0).wait()
    let port = server.localAddress!.port!
    let directory = NSTemporaryDirectory() + "pbxd-webhookbench-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let configFile = directory + ".conf"
    try! "[webhook bench]\nurl=http://127.0.0.1:\(port)/hook\nsecret=bench\nevents=call.*\n".write(toFile: configFile, atomically: true, encoding: .utf8)
    let configs = try! WebhookConfig.all(in: ConfigFile.load(path: configFile)).configs
    let bus = EventBus()
    let service = try! WebhookService(configs: configs, storage: Storage(directory: directory), group: group)
    let task = Task { await service.run(bus: bus) }
    while bus.subscriberCount == 0 { usleep(1000) }

    let start = ContinuousClock.now
    for n in 0..<calls {
        let id = "1795300000.\(n)"
        let block: [ManagerEvent.Field] = [.init("CallerIDNum", "555\(n)"), .init("Exten", "600"), .init("Uniqueid", id), .init("Linkedid", id)]
        bus.publish(ManagerEvent(name: "Newchannel", class: .call, fields: block))
        bus.publish(ManagerEvent(name: "Hangup", class: .call, fields: block + [.init("Cause", "16")]))
    }
    let events = 2 * calls
    while received.withLockedValue({ $0 }) < events { usleep(2000) }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("command: .build/release/pbxd-bench webhooks \(calls)")
    print(String(format: "%d events (%d calls) delivered in %.2f s: %.0f events/s", events, calls, seconds, Double(events) / seconds))
    task.cancel()
    try? server.close().wait()
    try? FileManager.default.removeItem(atPath: configFile)
}

/// Answers every request 200 with an empty body and counts them.
private final class OKResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let received: NIOLockedValueBox<Int>

    init(received: NIOLockedValueBox<Int>) {
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        received.withLockedValue { $0 += 1 }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
