extension SIPHeaders {
    /// Every value of a header by name (any case, compact forms too), in order, as it would be
    /// written on the wire: what Asterisk's `SIP_HEADER(name,n)` returns. Typed headers come
    /// back serialised; the others exactly as received (comma lists are not split).
    public func wireValues(named name: String) -> [String] {
        switch SIPParser.canonicalHeaderName(name).lowercased() {
        case "via": vias.map(\.description)
        case "from": [from.description]
        case "to": [to.description]
        case "call-id": [callID]
        case "cseq": [cseq.description]
        case "max-forwards": maxForwards.map { [String($0)] } ?? []
        case "contact": contactWildcard ? ["*"] : contacts.map(\.description)
        case "route": routes.map(\.description)
        case "record-route": recordRoutes.map(\.description)
        case "content-type": contentType.map { [$0] } ?? []
        default:
            other.filter { $0.name.caseInsensitiveEquals(SIPParser.canonicalHeaderName(name)) }.map(\.value)
        }
    }
}
