import RTPMedia

/// Applies control operations (remote addresses, PT maps, start, close) to a relay session in
/// the order the signalling issued them. The session's own calls are async and may be called
/// from anywhere; chaining them keeps "point at the new address, then start" from reordering.
/// Owned by the SIP event loop (the only place `enqueue` is called).
final class RelayControl: @unchecked Sendable {
    // @unchecked Sendable: `last` is read and written only on the SIP event loop.
    let session: RelaySession
    private var last: Task<Void, Never>?

    init(session: RelaySession) { self.session = session }

    func localPort(_ leg: RelayLeg) -> Int { session.localPort(leg) }

    func enqueue(_ operation: @escaping @Sendable (RelaySession) async -> Void) {
        let previous = last
        let session = self.session
        last = Task {
            await previous?.value
            await operation(session)
        }
    }
}
