import RTPMedia

/// The contract between the dialplan and a channel's technology (SIP today; others later).
/// The dialplan executor and its applications only ever talk to a channel through this, so
/// dialplan tests drive it with a fake and the SIP channel driver implements it for real.
public protocol CallChannel: AnyObject, Sendable {
    /// `SIP/1001-00000001`
    var name: String { get }
    /// `1732200000.12`
    var uniqueID: String { get }
    var linkedID: String { get }
    /// Caller ID as received (`CALLERID(num)` / `CALLERID(name)`).
    var callerIDNumber: String { get async }
    var callerIDName: String { get async }
    /// Replaces the caller ID (dialplan `Set(CALLERID(num)=...)`): later Dial()s present it to
    /// the callee, and CDR/AMI report it, as Asterisk's `ast_channel_set_caller` does.
    func setCallerID(number: String, name: String) async
    /// The `occurrence`-th (1-based) value of a header of the request that created the channel
    /// (`SIP_HEADER(name,n)`); nil when it has none (or the channel is not SIP).
    func requestHeader(_ name: String, occurrence: Int) async -> String?
    var state: ChannelState { get async }
    /// The channel as events describe it, at this instant (AMI's channel block).
    var snapshot: ChannelSnapshot { get async }
    /// Records where the dialplan is (snapshot's Context/Exten/Priority), as each priority runs.
    func setDialplanLocation(context: String, exten: String, priority: Int) async

    /// Answers an inbound channel (200 OK). No-op when already up.
    func answer() async throws
    /// Sends ringing/progress/busy/congestion to the caller without answering.
    func indicate(_ indication: ChannelIndication) async
    /// Ends the channel with a cause; returns once the hangup is sent.
    func hangup(cause: HangupCause) async
    /// Whether the far end has hung up (the dialplan stops at the next priority).
    var isHungUp: Bool { get async }
    /// Suspends until the channel hangs up or the duration passes; returns true if it hung up.
    func waitForHangup(timeout: Duration) async -> Bool

    /// Plays sound prompts (Asterisk names such as `digits/5` or `vm-goodbye`, looked up for
    /// `language`) to the caller, one after the other. With `interruptDigits` non-empty, a DTMF
    /// digit among them stops playback at once and is returned (and consumed); other digits stay
    /// buffered for `receiveDigit`.
    func play(_ prompts: [String], language: String, interruptDigits: String) async -> PlaybackResult
    /// The next DTMF digit the caller pressed (digits are buffered from the moment the channel
    /// has media, as Asterisk does), waiting up to `timeout`; nil on timeout or hangup.
    func receiveDigit(timeout: Duration) async -> Character?

    /// Starts `plan` playing to the caller in the background (`Playtones`) and returns at once;
    /// it replaces whatever was playing and runs until `stopTones`, the next prompt or the
    /// hangup. False when the channel has no media to play to (not answered, bridged, gone).
    func startTones(_ plan: TonePlan) async -> Bool
    /// Stops tones from `startTones` (`StopPlaytones`); a prompt playing is left alone.
    func stopTones() async

    // Media applications: Record, Echo, Milliwatt, MusicOnHold, SendDTMF.

    /// Records what the caller says into `request.path` (an 8 kHz 16-bit mono WAV, written as it
    /// comes) until silence, the maximum duration, a terminating digit or hangup.
    func record(_ request: RecordingRequest) async -> RecordingOutcome
    /// Sends the caller's own audio back to it until one of `terminators` is pressed (returned)
    /// or the channel hangs up (nil).
    func echo(until terminators: String) async -> Character?
    /// Plays music or a tone to the caller, continuously, for `duration` (nil: until hangup).
    func playContinuous(_ sound: ContinuousSound, duration: Duration?) async -> ContinuousPlayResult
    /// Sends DTMF digits (RFC 4733) to the caller: each lasting `duration`, `gap` between them;
    /// `w` waits 500 ms, `W` one second. False when the channel hung up (or has no DTMF path).
    func sendDTMF(_ digits: String, duration: Duration, gap: Duration) async -> Bool
}

/// Places outbound calls. `dial` is Dial(): it rings the callee channels, bridges the first to
/// answer with the caller and returns when the bridge ends (or the dial fails). `place` and
/// `bridge` are its two halves for applications that act between the answer and the bridge
/// (Queue() announces the agent's number to the caller) or that start a call with no caller at
/// all (AMI Originate).
public protocol CallDialer: Sendable {
    func dial(from caller: any CallChannel, request: DialRequest) async -> DialResult

    /// Creates an outbound channel to `target` and sends the call, without bridging it. With a
    /// `caller` the new channel is that caller's callee (same Linkedid, the caller's caller ID
    /// unless `callerID` overrides it, media offered from the caller's codecs); with none it is
    /// an originated call with its own media. Progress arrives on the returned call's stream.
    func place(_ target: CallTarget, for caller: (any CallChannel)?, options: PlaceOptions) async -> Result<PlacedCall, PlaceFailure>

    /// Bridges two answered channels — media both ways, DTMF passed on in each leg's method,
    /// re-INVITEs relayed — until one of them hangs up. Neither is hung up here: the caller of
    /// `bridge` decides what happens to the one left (Dial and Queue hang it up too).
    func bridge(_ caller: any CallChannel, with callee: any CallChannel) async -> BridgeEnd

    /// `bridge` where the parties may dial the in-call `features` (features.conf codes).
    func bridge(_ caller: any CallChannel, with callee: any CallChannel, features: BridgeFeatures) async -> BridgeEnd
}

extension CallDialer {
    /// For technologies (and test fakes) without in-call features: a plain bridge.
    public func bridge(_ caller: any CallChannel, with callee: any CallChannel, features: BridgeFeatures) async -> BridgeEnd {
        await bridge(caller, with: callee)
    }
}

/// `SIP/811` or `SIP/trunk/5550100` as data.
public struct CallTarget: Sendable, Hashable, CustomStringConvertible {
    public var technology: String
    public var resource: String

    public init(technology: String, resource: String) {
        self.technology = technology
        self.resource = resource
    }

    /// Parses `Tech/resource`; nil when there is no `/` or either part is empty.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(technology: parts[0], resource: parts[1])
    }

    public var description: String { "\(technology)/\(resource)" }
}

/// How `place` presents the call.
public struct PlaceOptions: Sendable {
    /// Caller ID shown to the callee; nil: the caller's own (or empty when there is no caller).
    public var callerID: (number: String, name: String)?
    /// Gives up ringing after this long (the progress stream then reports `.failed(.noAnswer)`).
    public var timeout: Duration?
    /// The Uniqueid the new channel gets instead of the next one (AMI Originate's `ChannelId`).
    public var uniqueID: String?

    public init(callerID: (number: String, name: String)? = nil, timeout: Duration? = nil, uniqueID: String? = nil) {
        self.callerID = callerID
        self.timeout = timeout
        self.uniqueID = uniqueID
    }
}

/// A call sent by `place`: its channel (hang it up to cancel) and what happens to it.
public struct PlacedCall: Sendable {
    public let channel: any CallChannel
    /// `.ringing` (perhaps several times), then exactly one of `.answered` / `.failed`, then the
    /// stream ends.
    public let progress: AsyncStream<CallProgress>

    public init(channel: any CallChannel, progress: AsyncStream<CallProgress>) {
        self.channel = channel
        self.progress = progress
    }
}

public enum CallProgress: Sendable, Equatable {
    case ringing
    case answered
    case failed(HangupCause)
}

/// Why `place` could not even send the call (unknown peer, unregistered, call-limit reached).
public struct PlaceFailure: Error, Sendable, CustomStringConvertible {
    public var cause: HangupCause
    public var description: String

    public init(cause: HangupCause, description: String) {
        self.cause = cause
        self.description = description
    }
}

/// Which side left a bridge first, and why.
public enum BridgeEnd: Sendable, Equatable {
    case callerHungUp(HangupCause)
    case calleeHungUp(HangupCause)
    /// An async goto (AMI Redirect, BlindTransfer) took the caller out; the callee is still up.
    case callerRedirected
    /// The two channels can't be bridged (different technologies, or media that was not set up
    /// for each other); nothing was changed.
    case refused(String)
}

/// Dial(SIP/1002&SIP/1003,30,options) as data.
public struct DialRequest: Sendable {
    /// `tech/resource` pairs, e.g. ("SIP", "1002").
    public var targets: [(technology: String, resource: String)]
    public var timeout: Duration?
    public var options: String
    /// The caller's inheritable channel variables, to set on each callee channel: `_VAR` arrives
    /// as `VAR` (one hop), `__VAR` stays `__VAR` (every hop), as in Asterisk.
    public var inheritedVariables: [String: String]

    public init(targets: [(technology: String, resource: String)], timeout: Duration?, options: String = "", inheritedVariables: [String: String] = [:]) {
        self.targets = targets
        self.timeout = timeout
        self.options = options
        self.inheritedVariables = inheritedVariables
    }
}

public struct DialResult: Sendable {
    public var status: DialStatus
    /// The callee's hangup cause when the dial failed (for HANGUPCAUSE).
    public var cause: HangupCause?
    /// The channel that answered, if any (`DIALEDPEERNAME`).
    public var answeredChannelName: String?
    public init(status: DialStatus, cause: HangupCause? = nil, answeredChannelName: String? = nil) {
        self.status = status
        self.cause = cause
        self.answeredChannelName = answeredChannelName
    }
}

/// How a `play` ended.
public enum PlaybackResult: Sendable, Equatable {
    case finished
    /// A digit from `interruptDigits` stopped the playback.
    case interrupted(digit: Character)
    /// This prompt exists in no sound directory (Asterisk logs it and the application fails).
    case missing(prompt: String)
    /// The channel hung up (or has no media to play to).
    case hungUp
}

/// What `CallChannel.record` records and when it stops.
public struct RecordingRequest: Sendable, Equatable {
    /// Absolute path of the `.wav` file to write (created or truncated).
    public var path: String
    /// Stop after this much continuous silence; nil: no silence detection.
    public var silence: Duration?
    /// Stop after this long; nil: no limit.
    public var maxDuration: Duration?
    /// DTMF digits that end the recording (`#` by default in Record).
    public var terminators: String

    public init(path: String, silence: Duration? = nil, maxDuration: Duration? = nil, terminators: String = "#") {
        self.path = path
        self.silence = silence
        self.maxDuration = maxDuration
        self.terminators = terminators
    }
}

/// How a recording ended (Record's `RECORD_STATUS`).
public enum RecordingOutcome: Sendable, Equatable {
    case silence
    /// The maximum duration passed.
    case timeout
    case dtmf(Character)
    case hungUp
    /// The file could not be created or written.
    case error(String)
}

/// What `playContinuous` plays.
public enum ContinuousSound: Sendable, Equatable {
    /// Sound files (names or absolute paths without extension) looped in order, or in random
    /// order: a music-on-hold class.
    case music(files: [String], random: Bool)
    /// A sine tone (Milliwatt) at `amplitude` (peak, 16-bit linear).
    case tone(frequency: Double, amplitude: Double)
}

public enum ContinuousPlayResult: Sendable, Equatable {
    /// The duration passed.
    case elapsed
    case hungUp
    /// Nothing could be played (no file found, unsupported codec).
    case failed(String)
}
