import RTPMedia

/// Applies control operations (remote addresses, PT maps, start, close) to a relay session in
/// the order the signalling issued them. The session's own calls are async and may be called
/// from anywhere; chaining them keeps "point at the new address, then start" from reordering.
/// Owned by the SIP event loop (the only place `enqueue` is called).
///
/// It also counts the legs using each side: the session closes when the last of them is
/// released, so a leg that outlives the call it was made for (a dialed leg sent into the
/// dialplan, a transferred party) keeps its sockets.
final class RelayControl: @unchecked Sendable {
    // @unchecked Sendable: `last` and `users` are read and written only on the SIP event loop
    // (a new control is counted once before it is handed to that loop, by its only holder).
    let session: RelaySession
    private var last: Task<Void, Never>?
    private var users: [RelayLeg: Int] = [:]

    init(session: RelaySession) { self.session = session }

    /// A leg now uses `side`.
    func retain(_ side: RelayLeg) { users[side, default: 0] += 1 }

    /// A leg of `side` is gone; true when it was the session's last leg (time to close it).
    func release(_ side: RelayLeg) -> Bool {
        users[side] = max(0, users[side, default: 0] - 1)
        return users.values.allSatisfy { $0 == 0 }
    }

    /// Whether a live leg faces `side`.
    func isInUse(_ side: RelayLeg) -> Bool { users[side, default: 0] > 0 }

    func localPort(_ leg: RelayLeg) -> Int { session.localPort(leg) }

    /// Completes once every operation enqueued so far has been applied.
    var inFlight: Task<Void, Never>? { last }

    func enqueue(_ operation: @escaping @Sendable (RelaySession) async -> Void) {
        let previous = last
        let session = self.session
        last = Task {
            await previous?.value
            await operation(session)
        }
    }
}
