/// The dialplan's half of a transfer dialed in a bridge (features.conf `blindxfer`, `atxfer`).
/// PBXCore spots the code, holds the bridge and collects the transferer's digits; what an
/// extension is and how a channel is sent to one belong to the dialplan, which the wiring
/// passes down through this (PBXCore does not import Dialplan).
public protocol BlindTransferRouting: Sendable {
    /// Where the transferer's digits are looked up: its `TRANSFER_CONTEXT` variable, else the
    /// context it is in (Asterisk's `get_transfer_context`). `other` is the party it is bridged
    /// with, whose inheritable variables a dialed transferer received.
    func transferContext(of transferer: any CallChannel, bridgedWith other: any CallChannel) async -> String
    /// Whether `exten` is the start of a longer extension in `context` (keep collecting).
    func canMatchMore(context: String, exten: String, callerID: String) -> Bool
    func exists(context: String, exten: String, callerID: String) -> Bool
    /// Sends `transferee` to priority 1 of `exten@context` (an async goto of its dialplan run).
    /// Throws, with a reason for the log, when it can't (a leg with no dialplan run).
    func redirect(_ transferee: any CallChannel, context: String, exten: String) async throws
    /// Runs `exten@context` on `transferer` as an attended transfer's consultation (the run
    /// AMI Atxfer starts; it returns when that run ends).
    func consult(_ transferer: any CallChannel, context: String, exten: String) async
}
