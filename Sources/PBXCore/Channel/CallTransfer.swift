/// Transfers of bridged legs that run no dialplan of their own (a leg that Dial, Queue or
/// Originate created), for AMI Redirect, BlindTransfer and Atxfer. The channel technology
/// implements it (SIP: `SIPDialer`); the dialplan side starts the runs.
public protocol CallTransferring: Sendable {
    /// Takes `channel` (name or Uniqueid) out of its bridge so a dialplan run can start on it:
    /// BridgeLeave, media unlinked, and its party's wait (Dial, Queue) ends as if it had hung
    /// up — that party is not hung up by the transfer itself. The caller must start the run.
    func detachForDialplan(_ channel: String) async throws(TransferRefusal) -> any CallChannel

    /// Starts an attended transfer by `transferer` (name or Uniqueid, a bridged leg that runs
    /// no dialplan): its party (the transferee) is held with music on hold, and `consult` is
    /// started on the transferer (a dialplan run at the transfer target). Returns once the
    /// transferee is held.
    func startAttendedTransfer(
        transferer: String, exten: String, context: String,
        consult: @escaping @Sendable (any CallChannel) async -> Void
    ) async throws(TransferRefusal)

    /// Ends the consultation of `transferer`'s attended transfer (CancelAtxfer): the target is
    /// hung up (or stops ringing) and the transferer goes back to the transferee.
    func cancelAttendedTransfer(transferer: String) async throws(TransferRefusal)
}

/// Why a transfer or a redirect of a bridged leg was refused (nothing was changed).
public enum TransferRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case noSuchChannel(String)
    case gone(String)
    case notBridged(String)
    /// Already in a transfer, or running dialplan of its own.
    case busy(String)
    /// The channel's technology can't be handed over (not SIP).
    case unsupported(String)
    /// CancelAtxfer on a channel that is not consulting.
    case noTransfer(String)

    public var description: String {
        switch self {
        case .noSuchChannel(let name): "No such channel: \(name)"
        case .gone(let name): "\(name) has hung up"
        case .notBridged(let name): "\(name) is not bridged"
        case .busy(let name): "\(name) is already being transferred or runs a dialplan of its own"
        case .unsupported(let name): "\(name) cannot be transferred by pbxd"
        case .noTransfer(let name): "No attended transfer in progress on \(name)"
        }
    }
}
