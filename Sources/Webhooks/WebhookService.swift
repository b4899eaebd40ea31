import Crypto
import Foundation
import Logging
import NIOCore
import PBXCore
import Storage

/// Delivers the switch's events to CRMs: reads the event bus, maps events (`CallEventMapper`),
/// queues each one a webhook wants in that webhook's `WebhookOutbox`, and runs one delivery
/// loop per webhook that posts the oldest pending event until the CRM takes it. One loop per
/// webhook, strictly in order, so a call's events arrive in the order they happened.
///
/// Each POST carries `X-Pbxd-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`,
/// `X-Pbxd-Event` and `X-Pbxd-Delivery` (= the body's `id`, the same on every retry). A 2xx
/// delivers; 408, 429, 5xx, no answer or no connection retry with backoff (1 s doubling to
/// the webhook's `maxbackoff`); any other status (another 4xx, a redirect) means the CRM
/// refuses the event for good: logged and skipped, so it does not block the ones behind it.
/// Secrets are never logged.
public final class WebhookService: Sendable {
    private let configs: [WebhookConfig]
    private let outboxes: [WebhookOutbox]
    private let poster: HTTPPoster
    private let logger: Logger
    private let recordingLink: CallEventMapper.RecordingLink?

    /// Opens each webhook's outbox in `storage` (events still pending from the last run are
    /// delivered first). `recordingLink` signs `call.ended`'s `recording_url`.
    public init(
        configs: [WebhookConfig], storage: Storage, group: any EventLoopGroup,
        recordingLink: CallEventMapper.RecordingLink? = nil, logger: Logger = Logger(label: "pbxd.webhooks")
    ) throws {
        self.recordingLink = recordingLink
        self.configs = configs
        self.outboxes = try configs.map { try WebhookOutbox(name: $0.name, storage: storage) }
        self.poster = HTTPPoster(group: group)
        self.logger = logger
    }

    /// Runs until cancelled: the bus reader and the delivery loops.
    public func run(bus: EventBus) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.read(bus) }
            for index in configs.indices {
                group.addTask { await self.deliver(index) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Reads the bus; if the subscription is cut off (this reader fell too far behind), says so
    /// and subscribes again: the events in between are lost, the ones after are not.
    private func read(_ bus: EventBus) async {
        var mapper = CallEventMapper(recordingLink: recordingLink)
        while !Task.isCancelled {
            let subscription = bus.subscribe(label: "webhooks", capacity: 50_000)
            await withTaskCancellationHandler {
                await queue(subscription.events, mapper: &mapper)
            } onCancel: {
                subscription.cancel()
            }
            if !Task.isCancelled { logger.error("webhooks fell behind the event bus and were cut off; events were lost; resubscribing") }
        }
    }

    private func queue(_ events: AsyncStream<ManagerEvent>, mapper: inout CallEventMapper) async {
        let raw = configs.contains { $0.events.contains { $0.hasPrefix("ami.") } }
        for await event in events {
            for webhookEvent in mapper.map(event, raw: raw) {
                for (config, outbox) in zip(configs, outboxes) where config.wants(webhookEvent.event) {
                    do {
                        try await outbox.append(id: webhookEvent.id, body: webhookEvent.body())
                    } catch {
                        logger.error("webhook outbox write failed; event lost", metadata: ["webhook": "\(config.name)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    private func deliver(_ index: Int) async {
        let config = configs[index], outbox = outboxes[index]
        while !Task.isCancelled {
            let entry: WebhookOutbox.Entry
            do {
                entry = try await outbox.next()
            } catch {
                logger.error("webhook outbox read failed", metadata: ["webhook": "\(config.name)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            var wait: Duration = .seconds(1)
            while !Task.isCancelled {
                let outcome = await attempt(entry, config)
                if outcome == .done { break }
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(config.maxBackoffSeconds))
            }
            guard !Task.isCancelled else { return }
            do {
                try await outbox.markDelivered(entry)
            } catch {
                // The entry stays at the head and is sent again (at least once).
                logger.error("webhook outbox update failed", metadata: ["webhook": "\(config.name)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private enum Outcome { case done, retry }

    private func attempt(_ entry: WebhookOutbox.Entry, _ config: WebhookConfig) async -> Outcome {
        let body = Array(entry.body.utf8)
        let event = (try? JSONDecoder().decode(WebhookEvent.self, from: Data(body)))?.event ?? ""
        let headers = [
            ("X-Pbxd-Signature", "sha256=" + Self.signature(body, secret: config.secret)),
            ("X-Pbxd-Event", event), ("X-Pbxd-Delivery", entry.id),
        ]
        let metadata: Logger.Metadata = ["webhook": "\(config.name)", "event": "\(event)", "delivery": "\(entry.id)"]
        do {
            let status = try await poster.post(
                to: config.url, headers: headers, body: body, timeout: .seconds(Int64(config.timeoutSeconds)))
            switch status {
            case 200..<300:
                logger.debug("webhook delivered", metadata: metadata)
                return .done
            case 408, 429, 500...:
                logger.notice("webhook answered \(status); retrying", metadata: metadata)
                return .retry
            default:
                logger.warning("webhook refused the event with \(status); skipped", metadata: metadata)
                return .done
            }
        } catch {
            logger.notice("webhook unreachable: \(error); retrying", metadata: metadata)
            return .retry
        }
    }

    /// Hex HMAC-SHA256 of `body`.
    static func signature(_ body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }
}
