import Foundation
import RTPMedia

/// Audio codecs pbxd can negotiate, by their Asterisk names (`allow=ulaw,alaw,g722,opus`).
public enum CodecName: String, Sendable, Hashable, CaseIterable {
    case ulaw, alaw, g722, opus

    /// Asterisk's default when nothing is configured, minus the codecs pbxd lacks (gsm, h263).
    public static let asteriskDefault: [CodecName] = [.ulaw, .alaw]

    /// Asterisk codec names pbxd recognises but does not implement: an `allow=` naming one is
    /// a warning (the codec is skipped), not an error, so existing sip.conf files still load.
    static let knownUnsupported: Set<String> = [
        "gsm", "g729", "g723", "g726", "g726aal2", "adpcm", "ilbc", "speex", "speex16", "speex32", "lpc10",
        "slin", "slin12", "slin16", "slin24", "slin32", "slin44", "slin48", "slin96", "slin192", "siren7",
        "siren14", "g719", "testlaw", "silk", "silk8", "silk12", "silk16", "silk24", "h261", "h263", "h263p",
        "h264", "h265", "mpeg4", "vp8", "vp9", "t140", "t140red", "red", "jpeg", "png",
    ]

    /// Applies one `allow=` or `disallow=` value to an ordered preference list, Asterisk style:
    /// `disallow=all` empties it, `allow=all` adds every codec, `allow=x` appends x unless
    /// already listed, `disallow=x` removes it. `ulaw:20` framing suffixes are ignored.
    static func apply(
        _ entry: ConfigEntry, allow: Bool, to codecs: inout [CodecName], warnings: inout [ConfigWarning]
    ) throws(ConfigError) {
        for item in entry.value.split(whereSeparator: { $0 == "," || $0 == "&" }) {
            let name = item.split(separator: ":").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if name.isEmpty { continue }
            if name == "all" {
                if allow {
                    for codec in CodecName.allCases where !codecs.contains(codec) { codecs.append(codec) }
                } else {
                    codecs.removeAll()
                }
            } else if let codec = CodecName(rawValue: name) ?? (name == "mulaw" ? .ulaw : nil) {
                if allow {
                    if !codecs.contains(codec) { codecs.append(codec) }
                } else {
                    codecs.removeAll { $0 == codec }
                }
            } else if knownUnsupported.contains(name) {
                if allow { warnings.append(ConfigWarning("codec '\(name)' is not supported by pbxd; ignored", at: entry.location)) }
            } else {
                throw ConfigError("\(entry.key): unknown codec '\(name)'", at: entry.location)
            }
        }
    }
}

extension CodecName {
    /// The SDP codec for this name (static payload types where they exist; Opus on the usual
    /// dynamic type, which the offer/answer carries through unchanged).
    public var sdpCodec: RTPMedia.Codec {
        switch self {
        case .ulaw: .pcmu
        case .alaw: .pcma
        case .g722: .g722
        case .opus: RTPMedia.Codec(name: "opus", clockRate: 48000, payloadType: 111, channels: 2)
        }
    }
}
