import Foundation
import NIOConcurrencyHelpers
import PBXCore

extension AMISession {
    /// Serves the connection until the client leaves or is sent away: sends the banner, answers
    /// `requests` in order, and from the successful Login on runs the event pump. An
    /// unauthenticated session is closed after `authTimeout` (ami.md §1). `onLogin` runs once,
    /// when the Login succeeds.
    func serve<Requests: AsyncSequence>(_ requests: Requests, eventCapacity: Int, onLogin: @Sendable () -> Void = {}) async where Requests.Element == AMIInbound {
        output.sendBanner()
        let subscription = NIOLockedValueBox<EventSubscription?>(nil)
        let closedByUs = NIOLockedValueBox(false)
        await withTaskGroup(of: Void.self) { tasks in
            let authTimeout = context.config.authTimeout
            tasks.addTask { [self] in
                try? await Task.sleep(for: authTimeout)
                guard !Task.isCancelled, !isAuthenticated else { return }
                logger.notice("manager client did not log in in time; disconnecting")
                output.close()
            }
            do {
                for try await inbound in requests {
                    // Subscribe before a Login is handled so its own SuccessfulAuth reaches it.
                    let pending = !isAuthenticated && Self.isLogin(inbound)
                        ? context.bus.subscribe(label: "ami \(endpoints.remote)", capacity: eventCapacity) : nil
                    let disposition = await handle(inbound)
                    if let pending {
                        if isAuthenticated {
                            onLogin()
                            subscription.withLockedValue { $0 = pending }
                            tasks.addTask { [self] in await pump(pending, closedByUs: closedByUs) }
                        } else {
                            pending.cancel()
                        }
                    }
                    if disposition == .close { break }
                }
            } catch {
                logger.debug("manager connection read failed", metadata: ["error": "\(error)"])
            }
            closedByUs.withLockedValue { $0 = true }
            subscription.withLockedValue { $0?.cancel() }
            output.close()
            tasks.cancelAll()
        }
    }

    private static func isLogin(_ inbound: AMIInbound) -> Bool {
        guard case .request(let headers) = inbound else { return false }
        return ManagerRequest(headers: headers).action.trimmingCharacters(in: .whitespaces).lowercased() == "login"
    }

    /// Forwards bus events to the client. The bus ends the stream early when this session fell
    /// `eventCapacity` events behind: then the client is disconnected, with a log line.
    private func pump(_ subscription: EventSubscription, closedByUs: NIOLockedValueBox<Bool>) async {
        for await event in subscription.events {
            deliver(event)
        }
        guard !closedByUs.withLockedValue({ $0 }) else { return }
        logger.warning("manager client fell too far behind on events; disconnecting")
        output.close()
    }
}

extension AMIOutput {
    /// `Asterisk Call Manager/7.0.3` — the AMI version of Asterisk 18, whose dialect pbxd speaks
    /// (transcript ami-01); clients check the prefix and the dotted digits.
    func sendBanner() {
        sendRaw("Asterisk Call Manager/\(AMIVersion.ami)\r\n")
    }
}

/// The versions pbxd reports: the Asterisk release whose AMI dialect it reproduces.
public enum AMIVersion {
    public static let ami = "7.0.3"
    public static let asterisk = "18.26.4"
}
