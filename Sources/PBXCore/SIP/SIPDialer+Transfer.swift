/// AMI Redirect/BlindTransfer/Atxfer of SIP legs that run no dialplan (`CallTransferring`).
extension SIPDialer: CallTransferring {
    public func detachForDialplan(_ channel: String) async throws(TransferRefusal) -> any CallChannel {
        let leg = try sipChannel(channel)
        let outcome = try? await driver.eventLoop.submit { () -> Result<SIPChannel, TransferRefusal> in
            do throws(TransferRefusal) {
                try leg.leaveBridgeForDialplan()
                return .success(leg)
            } catch {
                return .failure(error)
            }
        }.get()
        return try (outcome ?? .failure(.gone(channel))).get()
    }

    public func startAttendedTransfer(
        transferer: String, exten: String, context: String,
        consult: @escaping @Sendable (any CallChannel) async -> Void
    ) async throws(TransferRefusal) {
        let leg = try sipChannel(transferer)
        let driver = self.driver
        let outcome = try? await driver.eventLoop.submit { () -> Result<Void, TransferRefusal> in
            do throws(TransferRefusal) {
                _ = try SIPAttendedTransfer.start(transferer: leg, driver: driver)
                return .success(())
            } catch {
                return .failure(error)
            }
        }.get()
        try (outcome ?? .failure(.gone(transferer))).get()
        leg.logger.info("Atxfer: consulting \(exten)@\(context)")
        Task { await consult(leg) }
    }

    public func cancelAttendedTransfer(transferer: String) async throws(TransferRefusal) {
        let leg = try sipChannel(transferer)
        let outcome = try? await driver.eventLoop.submit { () -> Result<Void, TransferRefusal> in
            guard let transfer = leg.attendedTransfer, transfer.endConsultation() else { return .failure(.noTransfer(transferer)) }
            return .success(())
        }.get()
        try (outcome ?? .failure(.gone(transferer))).get()
    }

    private func sipChannel(_ name: String) throws(TransferRefusal) -> SIPChannel {
        guard let channel = driver.channels.channel(named: name) else { throw .noSuchChannel(name) }
        guard let leg = channel as? SIPChannel else { throw .unsupported(name) }
        return leg
    }
}
