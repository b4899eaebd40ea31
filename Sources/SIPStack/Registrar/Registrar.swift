import Foundation

/// What to answer a REGISTER with, so the transport code only serialises and sends it.
public enum RegistrarDecision: Sendable, Hashable {
    /// 200 OK listing every current binding of the AOR with its remaining `expires`.
    case ok(contacts: [NameAddress])
    /// 423 Interval Too Brief with `Min-Expires` (RFC 3261 §10.3 step 6).
    case intervalTooBrief(minExpires: Int)
    /// 400 with a reason: malformed Expires, `*` misuse, or an out-of-order CSeq (§10.3 step 7).
    case badRequest(reason: String)

    public var statusCode: Int {
        switch self {
        case .ok: 200
        case .intervalTooBrief: 423
        case .badRequest: 400
        }
    }

    /// The response to `request` (copying Via, From, To, Call-ID and CSeq; `toTag` is added to
    /// To when it has none, RFC 3261 §8.2.6.2).
    public func response(to request: SIPRequest, toTag: String) -> SIPResponse {
        var response = SIPResponse(replyingTo: request, statusCode: statusCode, toTag: toTag)
        switch self {
        case .ok(let contacts):
            response.headers.contacts = contacts
            // chan_sip also sends the granted interval as an Expires header; older phones read it.
            if let granted = contacts.first?.parameters["expires"] { response.headers.add("Expires", granted) }
        case .intervalTooBrief(let minExpires):
            response.headers.add("Min-Expires", String(minExpires))
        case .badRequest(let reason):
            response.reasonPhrase = reason
        }
        return response
    }
}

/// The location service of a registrar (RFC 3261 §10.3): bindings per AOR and the REGISTER
/// processing rules. A value type with one owner (DESIGN.md §3); `now` is always passed in
/// (wall-clock `Date`, because bindings outlive the process via `RegistrationStore`).
///
/// Authentication happens before (see `DigestAuthenticator`); the caller passes the AOR it
/// authenticated (the peer name), not whatever the To header says.
public struct Registrar: Sendable {
    public var policy: RegistrarPolicy
    private var bindingsByAOR: [String: [RegistrarBinding]] = [:]

    public init(policy: RegistrarPolicy = RegistrarPolicy(), bindings: [RegistrarBinding] = []) {
        self.policy = policy
        for binding in bindings { bindingsByAOR[binding.aor, default: []].append(binding) }
    }

    /// The result of one REGISTER: the answer, and whether the table changed (then persist it).
    public struct Outcome: Sendable, Hashable {
        public var decision: RegistrarDecision
        public var changed: Bool
    }

    /// Current, unexpired bindings of an AOR, oldest first.
    public func bindings(for aor: String, now: Date) -> [RegistrarBinding] {
        (bindingsByAOR[aor] ?? []).filter { !$0.isExpired(now: now) }
    }

    /// Every binding in the table (expired ones included until `expire(now:)` runs), for saving.
    public var allBindings: [RegistrarBinding] {
        bindingsByAOR.keys.sorted().flatMap { bindingsByAOR[$0]! }
    }

    /// Drops expired bindings; returns them (for `PeerStatus: Unregistered` events and saving).
    public mutating func expire(now: Date) -> [RegistrarBinding] {
        var removed: [RegistrarBinding] = []
        for (aor, list) in bindingsByAOR {
            let kept = list.filter { !$0.isExpired(now: now) }
            if kept.count != list.count {
                removed += list.filter { $0.isExpired(now: now) }
                bindingsByAOR[aor] = kept.isEmpty ? nil : kept
            }
        }
        return removed
    }

    /// Removes every binding of an AOR (peer deleted on reload, `sip unregister`).
    public mutating func removeAll(aor: String) -> Bool {
        bindingsByAOR.removeValue(forKey: aor) != nil
    }

    /// Processes an authenticated REGISTER for `aor` that arrived from `source` (RFC 3261
    /// §10.3 steps 6–8). Nothing changes unless the answer is 200.
    public mutating func register(
        _ request: SIPRequest, aor: String, source: RegistrationSource, now: Date
    ) -> Outcome {
        let headers = request.headers
        var headerExpires: Int?
        if let text = headers["Expires"] {
            guard let value = Self.parseDeltaSeconds(text) else {
                return Outcome(decision: .badRequest(reason: "Bad Expires"), changed: false)
            }
            headerExpires = value
        }
        let current = bindings(for: aor, now: now)

        // Step 7 (checked first so an out-of-order request changes nothing): a request with the
        // Call-ID of a binding must carry a higher CSeq than the one that made it.
        if current.contains(where: { $0.callID == headers.callID && headers.cseq.number <= $0.cseq }) {
            return Outcome(decision: .badRequest(reason: "Out of order CSeq"), changed: false)
        }

        if headers.contactWildcard {
            // §10.3 step 6: `*` only with Expires: 0 and no other Contact.
            guard headerExpires == 0, headers.contacts.isEmpty else {
                return Outcome(decision: .badRequest(reason: "Invalid wildcard Contact"), changed: false)
            }
            let changed = bindingsByAOR.removeValue(forKey: aor) != nil
            return Outcome(decision: .ok(contacts: []), changed: changed)
        }

        // Resolve each contact's requested interval before changing anything.
        var requests: [(contact: NameAddress, expires: Int)] = []
        for contact in headers.contacts {
            var expires = headerExpires ?? policy.defaultExpires
            if let text = contact.parameters["expires"] {
                guard let value = Self.parseDeltaSeconds(text) else {
                    return Outcome(decision: .badRequest(reason: "Bad Contact expires"), changed: false)
                }
                expires = value
            }
            if expires != 0 && expires < policy.minExpires {
                return Outcome(decision: .intervalTooBrief(minExpires: policy.minExpires), changed: false)
            }
            requests.append((contact, min(expires, policy.maxExpires)))
        }

        var list = current
        var changed = current.count != (bindingsByAOR[aor]?.count ?? 0)
        for (contact, expires) in requests {
            let instance = contact.parameters["+sip.instance"]
            let matches: (RegistrarBinding) -> Bool = {
                $0.contact.sameBindingAddress(as: contact.uri) || (instance != nil && $0.instanceID == instance)
            }
            if expires == 0 {
                let before = list.count
                list.removeAll(where: matches)
                changed = changed || list.count != before
                continue
            }
            let binding = RegistrarBinding(
                aor: aor, contact: contact.uri, source: source, expiresAt: now.addingTimeInterval(TimeInterval(expires)),
                registeredAt: list.first(where: matches)?.registeredAt ?? now, callID: headers.callID,
                cseq: headers.cseq.number, userAgent: headers["User-Agent"], instanceID: instance)
            list.removeAll(where: matches)
            list.append(binding)
            if list.count > policy.maxContacts { list.removeFirst(list.count - policy.maxContacts) }
            changed = true
        }
        bindingsByAOR[aor] = list.isEmpty ? nil : list
        return Outcome(decision: .ok(contacts: list.map { $0.contactHeader(now: now) }), changed: changed)
    }

    /// RFC 3261 `delta-seconds`: digits only; values beyond 2³²−1 are taken as that (§20.19).
    static func parseDeltaSeconds(_ text: String) -> Int? {
        let trimmed = text.trimmingSIPWhitespace()
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        guard trimmed.utf8.count <= 10, let value = Int(trimmed) else { return Int(UInt32.max) }
        return min(value, Int(UInt32.max))
    }
}
