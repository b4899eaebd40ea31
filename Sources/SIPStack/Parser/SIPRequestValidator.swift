/// Server-side checks on a request that parsed, in the order of RFC 3261 §8.2 (and §16.3 for
/// Max-Forwards): what a UAS or proxy must refuse even though the syntax is fine. Returns the
/// response to send instead of processing the request; nil means "go ahead".
public struct SIPRequestValidator: Sendable {
    /// URI schemes this server can route (lowercase). Others get 416 (RFC 3261 §8.2.2.1).
    public var supportedSchemes: Set<String>
    /// Option tags we implement; a `Require` naming any other gets 420 + `Unsupported`.
    public var supportedExtensions: Set<String>
    /// Methods this server implements. Any other (including every `.other`) gets 501.
    public var implementedMethods: Set<SIPMethod>
    /// Methods allowed for the target, when narrower than `implementedMethods`: an implemented
    /// method outside this set gets 405 with `Allow` (RFC 3261 §8.2.1). nil = all implemented.
    public var allowedMethods: Set<SIPMethod>?
    /// Body types we understand; a request with a body of another type gets 415 with `Accept`
    /// (RFC 3261 §8.2.3). nil = do not check (leave it to the application).
    public var acceptedContentTypes: Set<String>?
    /// Whether `Max-Forwards: 0` is refused with 483, as a proxy or B2BUA that would forward the
    /// request must (RFC 3261 §16.3 step 3). A pure endpoint sets this to false.
    public var rejectsZeroMaxForwards: Bool
    /// Whether unknown `Proxy-Require` option tags are refused too (420), as a proxy must
    /// (RFC 3261 §16.3 step 5); a UAS ignores that header.
    public var enforcesProxyRequire: Bool

    public init(
        supportedSchemes: Set<String> = ["sip", "sips"],
        supportedExtensions: Set<String> = [],
        implementedMethods: Set<SIPMethod> = SIPRequestValidator.defaultMethods,
        allowedMethods: Set<SIPMethod>? = nil,
        acceptedContentTypes: Set<String>? = nil,
        rejectsZeroMaxForwards: Bool = true,
        enforcesProxyRequire: Bool = false
    ) {
        self.supportedSchemes = supportedSchemes
        self.supportedExtensions = supportedExtensions
        self.implementedMethods = implementedMethods
        self.allowedMethods = allowedMethods
        self.acceptedContentTypes = acceptedContentTypes
        self.rejectsZeroMaxForwards = rejectsZeroMaxForwards
        self.enforcesProxyRequire = enforcesProxyRequire
    }

    public static let defaultMethods: Set<SIPMethod> = [
        .invite, .ack, .bye, .cancel, .register, .options, .info, .update, .prack,
        .subscribe, .notify, .refer, .message,
    ]

    /// What to answer instead of processing the request.
    public struct Rejection: Sendable, Equatable, CustomStringConvertible {
        public var statusCode: Int
        public var reason: String
        /// Headers the response must carry (`Unsupported`, `Allow`, `Accept`).
        public var extraHeaders: [(name: String, value: String)]

        public init(statusCode: Int, reason: String, extraHeaders: [(name: String, value: String)] = []) {
            self.statusCode = statusCode
            self.reason = reason
            self.extraHeaders = extraHeaders
        }

        public static func == (a: Rejection, b: Rejection) -> Bool {
            a.statusCode == b.statusCode && a.reason == b.reason
                && a.extraHeaders.elementsEqual(b.extraHeaders) { $0.name == $1.name && $0.value == $1.value }
        }

        public var description: String { "\(statusCode) \(reason)" }
    }

    public func validate(_ request: SIPRequest) -> Rejection? {
        let headers = request.headers
        if headers.cseq.method != request.method {
            return Rejection(statusCode: 400, reason: "CSeq method \(headers.cseq.method) does not match request method \(request.method)")
        }
        if let date = headers["Date"], !Self.isValidSIPDate(date) {
            return Rejection(statusCode: 400, reason: "Bad Date header")
        }
        if !implementedMethods.contains(request.method) {
            return Rejection(statusCode: 501, reason: "Not Implemented")
        }
        if let allowedMethods, !allowedMethods.contains(request.method) {
            let allow = SIPRequestValidator.defaultMethods.filter(allowedMethods.contains).map(\.description).sorted()
            return Rejection(statusCode: 405, reason: "Method Not Allowed", extraHeaders: [("Allow", allow.joined(separator: ", "))])
        }
        if !supportedSchemes.contains(request.uri.scheme.lowercased()) {
            return Rejection(statusCode: 416, reason: "Unsupported URI Scheme")
        }
        if rejectsZeroMaxForwards, headers.maxForwards == 0, request.method != .ack {
            return Rejection(statusCode: 483, reason: "Too Many Hops")
        }
        if request.method == .register, !headers.to.uri.isSIP {
            return Rejection(statusCode: 400, reason: "REGISTER To URI is not a SIP or SIPS URI")  // RFC 3261 §10.2
        }
        // RFC 3261 §8.2.2.3: never 420 an ACK or CANCEL.
        if request.method != .ack, request.method != .cancel {
            var required = headers.values("Require")
            if enforcesProxyRequire { required += headers.values("Proxy-Require") }
            let unsupported = required.filter { !supportedExtensions.contains($0.lowercased()) }
            if !unsupported.isEmpty {
                return Rejection(statusCode: 420, reason: "Bad Extension", extraHeaders: [("Unsupported", unsupported.joined(separator: ", "))])
            }
        }
        if let acceptedContentTypes, !request.body.isEmpty {
            let type = headers.contentType.map(Self.mediaType) ?? ""
            if !acceptedContentTypes.contains(type) {
                return Rejection(
                    statusCode: 415, reason: "Unsupported Media Type",
                    extraHeaders: [("Accept", acceptedContentTypes.sorted().joined(separator: ", "))])
            }
        }
        return nil
    }

    /// `type/subtype` lowercased, without parameters or white space.
    static func mediaType(_ contentType: String) -> String {
        let bare = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return String(bare.filter { $0 != " " && $0 != "\t" }).lowercased()
    }

    /// SIP-date = rfc1123-date: `Sat, 13 Nov 2010 23:29:00 GMT` (RFC 3261 §25.1); the zone must
    /// be GMT (RFC 3261 §20.17).
    static func isValidSIPDate(_ text: String) -> Bool {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6 else { return false }
        let days = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func digits(_ s: Substring, _ n: Int) -> Bool { s.utf8.count == n && s.utf8.allSatisfy { SIPChar.isDigit($0) } }
        let time = parts[4].split(separator: ":", omittingEmptySubsequences: false)
        return days.contains(String(parts[0])) && digits(parts[1], 2) && months.contains(String(parts[2]))
            && digits(parts[3], 4) && time.count == 3 && time.allSatisfy { digits($0, 2) } && parts[5] == "GMT"
    }
}

extension SIPResponse {
    /// The response a UAS sends for a request it will not process (RFC 3261 §8.2.6): Via, From,
    /// To, Call-ID and CSeq copied, a To tag added when absent, the rejection's extra headers.
    public init(rejecting request: SIPRequest, with rejection: SIPRequestValidator.Rejection, toTag: String) {
        var to = request.headers.to
        if to.tag == nil { to.tag = toTag }
        let headers = SIPHeaders(
            vias: request.headers.vias, from: request.headers.from, to: to, callID: request.headers.callID,
            cseq: request.headers.cseq, other: rejection.extraHeaders)
        self.init(statusCode: rejection.statusCode, reasonPhrase: rejection.reason, headers: headers)
    }
}
