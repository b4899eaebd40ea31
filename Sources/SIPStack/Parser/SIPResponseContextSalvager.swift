/// Recovers, from input that failed to parse, the raw header values needed to address an error
/// response (RFC 3261 §8.2.6.2: Via, From, To, Call-ID, CSeq are copied). Runs only on the error
/// path, tolerates anything, and never throws: what it cannot find it leaves out.
enum SIPResponseContextSalvager {
    static func salvage(_ bytes: UnsafeBufferPointer<UInt8>, limits: SIPParserLimits) -> SIPParseError.ResponseContext? {
        let count = min(bytes.count, limits.maxMessageBytes)
        var position = 0
        while position < count, bytes[position] == SIPChar.cr || bytes[position] == SIPChar.lf { position += 1 }
        // Requests only: a response is never answered.
        var r = SIPByteReader(bytes, from: position, to: count)
        let method = r.token()
        guard !method.isEmpty, r.peek(is: SIPChar.space) else { return nil }
        if r.equalsIgnoringCase(position..<min(position + 4, count), "sip/") { return nil }
        var context = SIPParseError.ResponseContext(method: r.string(method), vias: [])

        var lines = LineIterator(bytes: bytes, position: position, end: count)
        _ = lines.next()  // start line
        var headerCount = 0
        while let line = lines.next(), !line.isEmpty, headerCount < limits.maxHeaderCount {
            headerCount += 1
            var h = SIPByteReader(bytes, from: line.lowerBound, to: line.upperBound)
            let name = h.token()
            while let byte = h.peek, SIPChar.isWSP(byte) { h.position += 1 }
            guard !name.isEmpty, h.consume(SIPChar.colon) else { continue }
            h.skipLWS()
            while h.end > h.position, SIPChar.isLWS(bytes[h.end - 1]) { h.end -= 1 }
            let value = unfolded(bytes, h.position..<h.end)
            switch SIPHeaderName.lookup(bytes, name)?.kind {
            case .via?: context.vias.append(value)
            case .from?: context.from = context.from ?? value
            case .to?: context.to = context.to ?? value
            case .callID?: context.callID = context.callID ?? value
            case .cseq?: context.cseq = context.cseq ?? value
            default: break
            }
        }
        return context
    }

    /// Logical header lines (continuations joined), ending at the empty line or the end.
    struct LineIterator {
        let bytes: UnsafeBufferPointer<UInt8>
        var position: Int
        let end: Int

        mutating func next() -> Range<Int>? {
            guard position < end else { return nil }
            let start = position
            var contentEnd = end
            while position < end {
                if bytes[position] == SIPChar.lf {
                    contentEnd = (position > start && bytes[position - 1] == SIPChar.cr) ? position - 1 : position
                    position += 1
                    // Folded continuation: keep going unless the line was empty.
                    if contentEnd > start, position < end, SIPChar.isWSP(bytes[position]) { continue }
                    return start..<contentEnd
                }
                position += 1
            }
            return start..<contentEnd
        }
    }

    static func unfolded(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        for index in range {
            let byte = bytes[index]
            if SIPChar.isLWS(byte) {
                if out.last != SIPChar.space { out.append(SIPChar.space) }
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
