/// A channel's audio formats as Asterisk's Status action prints them (`Nativeformats: (ulaw)`,
/// `Readformat: ulaw`…): what the phone and pbxd settled in SDP, by Asterisk's codec names.
/// pbxd relays RTP between legs that agreed on the same codec, so there is never a
/// translation path (`Readtrans`/`Writetrans` stay empty).
public struct ChannelFormats: Sendable, Equatable {
    /// The formats the channel carries natively. chan_sip keeps only the preferred audio
    /// format of the joint capabilities, so this usually holds one name.
    public var native: [String]
    /// What the channel reads from the phone and writes to it.
    public var read: String
    public var write: String

    public init(native: [String], read: String, write: String) {
        self.native = native
        self.read = read
        self.write = write
    }

    /// One codec both ways, as a SIP leg has once its offer/answer settled.
    public init(codec: String) {
        self.init(native: [codec], read: codec, write: codec)
    }

    /// Asterisk's `ast_format_cap_get_names`: `(ulaw|alaw)`, `(nothing)` when empty.
    public var nativeDescription: String {
        native.isEmpty ? "(nothing)" : "(" + native.joined(separator: "|") + ")"
    }

    /// The five Status fields, in the captured order (ami-06).
    public var statusFields: [ManagerEvent.Field] {
        [
            .init("Nativeformats", nativeDescription), .init("Readformat", read), .init("Readtrans", ""),
            .init("Writeformat", write), .init("Writetrans", ""),
        ]
    }
}

/// A channel that can say which audio formats it uses (SIP legs; test fakes need not).
public protocol MediaFormatReporting: CallChannel {
    /// Nil while nothing is known yet (no SDP seen).
    var formats: ChannelFormats? { get async }
}
