import PBXCore

/// Transfers dialed in a bridge (`blindxfer`, `atxfer`), answered from the live dialplan: the
/// extensions the transferer may dial, the async goto that sends the transferee there (the
/// same redirect AMI BlindTransfer uses, so Queue logs BLINDTRANSFER for it) and the
/// consultation run of an attended transfer (as AMI Atxfer's).
public struct DialplanTransferRouting: BlindTransferRouting {
    let dialplan: LiveDialplan
    let executions: ExecutionRegistry

    public init(dialplan: LiveDialplan, executions: ExecutionRegistry) {
        self.dialplan = dialplan
        self.executions = executions
    }

    /// `TRANSFER_CONTEXT` of the transferer's dialplan run. A leg that Dial or Queue created runs
    /// none: it has the value it inherited from the caller (`_TRANSFER_CONTEXT` or
    /// `__TRANSFER_CONTEXT` set there, read now), else the context it was dialed from.
    public func transferContext(of transferer: any CallChannel, bridgedWith other: any CallChannel) async -> String {
        let name = "TRANSFER_CONTEXT"
        if executions.execution(of: transferer.uniqueID) != nil {
            if let context = try? await executions.value(of: name, channel: transferer.uniqueID), !context.isEmpty {
                return context
            }
        } else if let entry = executions.execution(of: other.uniqueID)?.variables[name], entry.inheritance != .none,
            !entry.value.isEmpty
        {
            return entry.value
        }
        let context = await transferer.snapshot.context
        return context.isEmpty ? "default" : context
    }

    public func canMatchMore(context: String, exten: String, callerID: String) -> Bool {
        dialplan.executor.matchMore(context: context, exten: exten, callerID: callerID)
    }

    public func exists(context: String, exten: String, callerID: String) -> Bool {
        dialplan.executor.hasExtension(context: context, exten: exten, callerID: callerID)
    }

    public func redirect(_ transferee: any CallChannel, context: String, exten: String) async throws {
        try await executions.redirect(channel: transferee.uniqueID, context: context, exten: exten, priority: "1")
    }

    public func consult(_ transferer: any CallChannel, context: String, exten: String) async {
        await dialplan.executor.run(channel: transferer, context: context, exten: exten)
    }
}
