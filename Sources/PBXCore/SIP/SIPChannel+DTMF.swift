import Logging
import NIOCore
import RTPMedia
import SIPStack

/// A DTMF key carried in a SIP INFO body (the form phones with `dtmfmode=info` use).
public enum SIPInfoDTMF: Equatable, Sendable {
    /// A key and how long it was pressed.
    case digit(DTMFDigit, duration: Duration)
    /// Hook flash (`Signal=!` or event 16): not a key a menu sees.
    case flash
    /// An INFO with no body (a keepalive some phones send).
    case empty

    public static let relayContentType = "application/dtmf-relay"
    public static let plainContentType = "application/dtmf"
    /// Used when the body gives no (or a zero) duration, as Asterisk does.
    public static let defaultDuration: Duration = .milliseconds(100)
    /// Longest key accepted: one RFC 4733 event at 8 kHz (65535 samples) lasts just over 8 s.
    public static let maximumDuration: Duration = .milliseconds(8000)

    public enum ParseError: Error, Equatable, Sendable {
        /// Neither `application/dtmf-relay` nor `application/dtmf` (415).
        case unsupportedContentType(String)
        /// The body of a DTMF content type is unusable (400 with this reason).
        case badBody(String)
    }

    /// Reads an INFO request's Content-Type and body.
    ///
    /// - `application/dtmf-relay`: `key=value` lines; `Signal` (required) is a key `0-9 * # A-D`
    ///   (lowercase accepted), an RFC 4733 event number `0...15`, or `!`/`16` for flash;
    ///   `Duration` (optional) in milliseconds. Other lines are ignored.
    /// - `application/dtmf`: the body is the key alone (or its event number).
    public static func parse(contentType: String?, body: [UInt8]) -> Result<SIPInfoDTMF, ParseError> {
        let type = contentType.map(mediaType) ?? ""
        if body.isEmpty, type.isEmpty || type == relayContentType || type == plainContentType { return .success(.empty) }
        guard type == relayContentType || type == plainContentType else {
            return .failure(.unsupportedContentType(type.isEmpty ? "(none)" : type))
        }
        guard let text = String(validating: body, as: UTF8.self) else { return .failure(.badBody("Body is not UTF-8")) }
        if type == plainContentType {
            let key = text.trimmingWhitespace
            guard !key.isEmpty else { return .failure(.badBody("Empty DTMF")) }
            return signal(key).map { $0 == .flash ? .flash : .digit($0.digit!, duration: defaultDuration) }
        }
        var signalValue: String?
        var durationValue: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            guard let equals = rawLine.firstIndex(of: "=") else {
                if rawLine.trimmingWhitespace.isEmpty { continue }
                return .failure(.badBody("Malformed dtmf-relay line"))
            }
            let key = rawLine[..<equals].trimmingWhitespace.lowercased()
            let value = rawLine[rawLine.index(after: equals)...].trimmingWhitespace
            if key == "signal", signalValue == nil { signalValue = value }
            if key == "duration", durationValue == nil { durationValue = value }
        }
        guard let signalValue, !signalValue.isEmpty else { return .failure(.badBody("Missing Signal")) }
        let key: Key
        switch signal(signalValue) {
        case .failure(let error): return .failure(error)
        case .success(let k): key = k
        }
        guard let digit = key.digit else { return .success(.flash) }
        var duration = defaultDuration
        if let durationValue {
            guard !durationValue.isEmpty, durationValue.utf8.count <= 9, durationValue.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let ms = Int(durationValue)
            else { return .failure(.badBody("Bad Duration")) }
            if ms > 0 { duration = min(.milliseconds(ms), maximumDuration) }
        }
        return .success(.digit(digit, duration: duration))
    }

    private enum Key: Equatable {
        case key(DTMFDigit)
        case flash
        var digit: DTMFDigit? { if case .key(let d) = self { d } else { nil } }
    }

    private static func signal(_ value: String) -> Result<Key, ParseError> {
        if value == "!" || value == "16" { return .success(.flash) }
        if value.count == 1, let digit = DTMFDigit(value.first!) { return .success(.key(digit)) }
        if value.utf8.count == 2, let event = UInt8(value), let digit = DTMFDigit(event: event) { return .success(.key(digit)) }
        return .failure(.badBody("Bad DTMF Signal"))
    }

    /// `type/subtype` lowercased, without parameters or white space.
    static func mediaType(_ contentType: String) -> String {
        let bare = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return String(bare.filter { $0 != " " && $0 != "\t" }).lowercased()
    }

    /// The `application/dtmf-relay` body pbxd sends (`shortinfo` leaves the duration out).
    static func relayBody(_ digit: DTMFDigit, duration: Duration?) -> String {
        guard let duration else { return "Signal=\(digit)\r\n" }
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "Signal=\(digit)\r\nDuration=\(ms)\r\n"
    }
}

extension StringProtocol {
    fileprivate var trimmingWhitespace: String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// How pbxd sends a DTMF key to a leg's phone.
enum DTMFSendMethod: Equatable {
    case rfc4733(payloadType: UInt8)
    case info(short: Bool)
    /// Audio tones (not generated yet; the digit is logged and dropped).
    case inband
    /// `dtmfmode=rfc2833` with no telephone-event in the SDP: the phone cannot take the key.
    case none
}

/// DTMF of a leg beyond its own RFC 4733 detector (SIPChannel+Media.swift): keys in SIP INFO,
/// and keys passed across a bridge in the method the other leg's peer uses (`dtmfmode`).
/// Everything here runs on the SIP event loop.
extension SIPChannel {
    /// The method this leg's phone takes DTMF in: sip.conf `dtmfmode`, `auto` choosing RFC 4733
    /// when telephone-event was negotiated and in-band otherwise.
    var dtmfSendMethod: DTMFSendMethod {
        let te = media.telephoneEventPayloadType
        switch peer.dtmfMode {
        case .info: return .info(short: false)
        case .shortinfo: return .info(short: true)
        case .inband: return .inband
        case .rfc2833: return te.map { .rfc4733(payloadType: $0) } ?? .none
        case .auto: return te.map { .rfc4733(payloadType: $0) } ?? .inband
        }
    }

    /// An in-dialog INFO from this leg's phone: 200 and the key passed on, 415 for a content
    /// type that is not DTMF, 400 for an unreadable DTMF body.
    func handleInfo(_ request: SIPRequest, transaction: ServerTransactionHandle) {
        switch SIPInfoDTMF.parse(contentType: request.headers.contentType, body: request.body) {
        case .success(.digit(let digit, let duration)):
            driver.reply(request, 200, on: transaction)
            dtmfReceived(digit, duration: duration, via: "SIP INFO")
        case .success(.flash):
            driver.reply(request, 200, on: transaction)
            logger.notice("hook flash in SIP INFO ignored")
        case .success(.empty):
            driver.reply(request, 200, on: transaction)
        case .failure(.unsupportedContentType(let type)):
            logger.debug("INFO with unsupported content type", metadata: ["type": "\(type)"])
            var response = driver.makeResponse(to: request, 415)
            response.headers.add("Accept", "\(SIPInfoDTMF.relayContentType), \(SIPInfoDTMF.plainContentType)")
            driver.transactions.respond(response, on: transaction)
        case .failure(.badBody(let reason)):
            logger.notice("unreadable DTMF in SIP INFO", metadata: ["reason": "\(reason)"])
            driver.reply(request, 400, reason: reason, on: transaction)
        }
    }

    /// A key from this leg's phone (INFO, or RFC 4733 intercepted while bridged): to the bridged
    /// leg in its method, else into the digit buffer the dialplan reads.
    func dtmfReceived(_ digit: DTMFDigit, duration: Duration, via method: String) {
        eventLoop.preconditionInEventLoop()
        guard hangupCause == nil else { return }
        logger.debug("DTMF received", metadata: ["digit": "\(digit)", "via": "\(method)"])
        publishDTMF(digit.character, duration: duration, direction: .received)
        if let peer = bridgedPeer, peer.hangupCause == nil, !bridgePaused {
            if featureCodes != nil {
                featureKeyPressed(digit, duration: duration, other: peer)
            } else {
                peer.sendDigit(digit, duration: duration)
            }
            return
        }
        digits.push(digit.character)
        // An RFC 4733 key stops an interruptible prompt on the media loop; an INFO key must too.
        if let localMedia { Task { await localMedia.interruptPlayback() } }
    }

    /// Sends a key to this leg's phone in its `dtmfmode`.
    func sendDigit(_ digit: DTMFDigit, duration requested: Duration) {
        eventLoop.preconditionInEventLoop()
        guard hangupCause == nil else { return }
        // An RFC 4733 key may arrive with duration 0 (its updates lost); one event holds ≤ 8 s.
        let duration = min(max(requested, Self.minimumSentDuration), SIPInfoDTMF.maximumDuration)
        switch dtmfSendMethod {
        case .info(let short):
            publishDTMF(digit.character, duration: duration, direction: .sent)
            sendInfoDigit(digit, duration: short ? nil : duration)
        case .rfc4733(let payloadType):
            publishDTMF(digit.character, duration: duration, direction: .sent)
            sendRFC4733Digit(digit, duration: duration, payloadType: payloadType)
        case .inband:
            logger.warning("DTMF cannot be sent in-band yet; digit dropped", metadata: ["digit": "\(digit)"])
        case .none:
            logger.warning("DTMF not sent: peer has dtmfmode=rfc2833 but negotiated no telephone-event",
                           metadata: ["digit": "\(digit)"])
        }
    }

    /// DTMFBegin and DTMFEnd for a key known only once it ended (INFO, a key passed across a
    /// bridge, one pbxd sends).
    func publishDTMF(_ digit: Character, duration: Duration, direction: DTMFDirection) {
        let milliseconds = Self.milliseconds(duration)
        publishEvent { .dtmfBegin($0, digit: digit, direction: direction) }
        publishEvent { .dtmfEnd($0, digit: digit, durationMs: milliseconds, direction: direction) }
    }

    /// The shortest key pbxd sends (RFC 4733 §2.5.1.2 suggests at least 40 ms).
    static let minimumSentDuration: Duration = .milliseconds(40)

    /// An INFO with `application/dtmf-relay` in this leg's dialog.
    func sendInfoDigit(_ digit: DTMFDigit, duration: Duration?) {
        guard var dialog else { return }
        var info = dialog.makeRequest(.info, via: driver.makeVia(for: remoteAddress))
        self.dialog = dialog
        info.headers.contentType = SIPInfoDTMF.relayContentType
        info.body = Array(SIPInfoDTMF.relayBody(digit, duration: duration).utf8)
        logger.debug("DTMF sent as SIP INFO", metadata: ["digit": "\(digit)"])
        driver.transactions.sendRequest(info, to: driver.destination(for: dialog, fallback: remoteAddress)) { [self] event in
            switch event {
            case .final(let response) where !response.isSuccess:
                logger.notice("DTMF INFO refused", metadata: ["status": "\(response.statusCode)"])
            case .timeout, .transportError:
                logger.notice("DTMF INFO got no answer")
            case .provisional, .final:
                break
            }
        }
    }

    /// RFC 4733 packets for one key, from this leg's relay socket into the (relayed) stream, one
    /// every 20 ms. Keys are queued behind each other on the relay's control queue.
    func sendRFC4733Digit(_ digit: DTMFDigit, duration: Duration, payloadType: UInt8) {
        let now = NIODeadline.now()
        let stream = injectedDTMF.next(at: now, duration: duration)
        var encoder = DTMFEventEncoder(
            digit: digit, payloadType: payloadType, ssrc: injectedDTMF.ssrc, sequenceNumber: stream.sequenceNumber,
            timestamp: stream.timestamp, duration: duration)
        let packets = encoder.allPackets()
        injectedDTMF.sequenceNumber &+= UInt16(packets.count)
        let side = media.side
        logger.debug("DTMF sent as RFC 4733", metadata: ["digit": "\(digit)", "pt": "\(payloadType)"])
        media.relay.enqueue { session in
            for (index, packet) in packets.enumerated() {
                if index > 0 { try? await Task.sleep(for: .milliseconds(20)) }
                await session.inject(side, packet: packet)
            }
        }
    }

    /// Called when this leg is bridged with `other`: where the other phone does not take RFC
    /// 4733, this leg's telephone-events are taken off the relay and sent on as INFO (and the
    /// other way round). Both on RFC 4733: nothing to do, the relay passes them (PT mapped).
    func startDTMFInterworking(with other: SIPChannel) {
        Self.interceptTelephoneEvents(from: self, to: other)
        Self.interceptTelephoneEvents(from: other, to: self)
    }

    private static func interceptTelephoneEvents(from source: SIPChannel, to target: SIPChannel) {
        if case .rfc4733 = target.dtmfSendMethod { return }
        source.logger.debug(
            "RFC 4733 DTMF taken off the relay: the bridged phone takes another method",
            metadata: ["peer": "\(target.name)", "method": "\(target.dtmfSendMethod)"])
        source.takeTelephoneEventsOffRelay()
    }

    /// From now on this leg's RFC 4733 keys come to `dtmfReceived` instead of being relayed
    /// (which sends them on, or holds them back as a feature code's).
    func takeTelephoneEventsOffRelay() {
        guard let payloadType = media.telephoneEventPayloadType else { return }
        let source = self
        let side = media.side
        let loop = eventLoop
        media.relay.enqueue { session in
            let detector = DTMFDetector(payloadType: payloadType) { [weak source] event in
                guard case .end(let end) = event, let source else { return }
                loop.execute { source.dtmfReceived(end.digit, duration: end.duration, via: "RFC 4733") }
            }
            await session.intercept(side, payloadType: payloadType, handler: detector)
        }
    }
}

/// This leg's own RTP stream for the DTMF pbxd injects into a relayed call: one SSRC, sequence
/// numbers that follow on, timestamps that follow real time at 8 kHz.
struct InjectedDTMFStream {
    let ssrc = UInt32.random(in: 1...UInt32.max)
    var sequenceNumber = UInt16.random(in: 0...UInt16.max)
    private let baseTimestamp = UInt32.random(in: 0...UInt32.max)
    private var origin: NIODeadline?
    /// End of the last event (timestamps), so back-to-back keys never overlap.
    private var lastEnd: UInt32?

    /// Sequence number and start timestamp of an event starting at `now`.
    mutating func next(at now: NIODeadline, duration: Duration) -> (sequenceNumber: UInt16, timestamp: UInt32) {
        let origin = self.origin ?? now
        self.origin = origin
        let elapsedSamples = UInt32(truncatingIfNeeded: (now - origin).nanoseconds / 125_000)
        var timestamp = baseTimestamp &+ elapsedSamples
        if let lastEnd, Int32(bitPattern: timestamp &- lastEnd) < 0 { timestamp = lastEnd }
        let (s, atto) = duration.components
        lastEnd = timestamp &+ UInt32(truncatingIfNeeded: s * 8000 + atto / 125_000_000_000_000)
        return (sequenceNumber, timestamp)
    }
}
