import Foundation
import NIOConcurrencyHelpers

/// Hands out Asterisk-style channel names (`SIP/1001-0000000a`) and Uniqueids
/// (`1732200000.12`): a process-wide sequence, as Asterisk keeps one.
public final class ChannelIdentity: Sendable {
    private let counter = NIOLockedValueBox<Int>(0)
    private let startEpoch = Int(Date().timeIntervalSince1970)

    public init() {}

    /// A fresh (name, uniqueID) pair for a channel of `technology` to `peer`.
    public func next(technology: String, peer: String) -> (name: String, uniqueID: String) {
        let sequence = counter.withLockedValue { value -> Int in
            value += 1
            return value
        }
        let hex = String(sequence, radix: 16)
        let padded = String(repeating: "0", count: max(0, 8 - hex.count)) + hex
        let epoch = Int(Date().timeIntervalSince1970)
        return ("\(technology)/\(peer)-\(padded)", "\(max(epoch, startEpoch)).\(sequence)")
    }
}
