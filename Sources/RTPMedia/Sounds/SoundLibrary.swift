import Foundation

/// Finds prompts by name the way Asterisk does, across a list of sound directories.
///
/// For `find("queue-thankyou", language: "ru", preferring: .ulaw)` the candidates are, in order:
///
///     for lang in ["ru", "en"]:              // the channel's language, then English
///         for dir in searchPath:             // e.g. pbxd's sounds/, /usr/share/asterisk/sounds
///             dir/lang/queue-thankyou.*      // Asterisk's per-language layout
///             dir/queue-thankyou.*           // the older flat layout (language-neutral files)
///
/// The first candidate location that has the prompt in any supported format wins (so a prompt
/// an operator dropped into an earlier directory overrides a packaged one, whatever its format);
/// among the formats present there, `AudioFileFormat.preferenceOrder` for the channel picks the
/// one needing the least conversion (`.ulaw` for a PCMU channel, then `.wav`, `.sln`, `.alaw`).
///
/// Names may contain directories (`digits/5`, `custom/welcome`). A name that starts with `/` is
/// an absolute path without extension and is used as is (no language, no search path). A
/// relative name whose `..` components would climb above the sound directory is refused, as is a
/// language containing `/` or `..`. Names are given without extension, as in Asterisk's
/// `Playback(digits/5)`. Unsupported formats (`.gsm`, `.WAV`, `.g722`, `.sln16`, ...) are not
/// looked for: see `AudioFileFormat`.
public struct SoundLibrary: Sendable {
    /// Where Debian's `asterisk-core-sounds-*` packages put their prompts. The `-wav` package
    /// installs `/usr/share/asterisk/sounds/en_US_f_Allison/...`; `asterisk-core-sounds-en`
    /// (which it recommends) adds the `en` → `en_US_f_Allison` link through update-alternatives,
    /// and the per-language layout above finds the prompts through that link.
    public static let debianAsteriskSounds = "/usr/share/asterisk/sounds"

    /// The language tried when the channel's language has no such prompt.
    public static let fallbackLanguage = "en"

    /// Directories searched in order.
    public var searchPath: [String]

    public init(searchPath: [String]) {
        self.searchPath = searchPath
    }

    /// pbxd's default: its own bundled `sounds/` directory (wherever the caller installed it),
    /// then the Debian Asterisk sound packages.
    public static func defaultSearchPath(bundledSounds: String) -> [String] {
        [bundledSounds, debianAsteriskSounds]
    }

    /// The best file for `name` in the channel's language (falling back to English) for a
    /// channel whose codec `codec` names, or nil when there is none or the name is refused.
    public func find(_ name: String, language: String, preferring codec: AudioFileFormat) -> SoundFile? {
        try? self.lookup(name, language: language, preferring: codec)
    }

    /// Like `find`, but says why nothing was returned.
    public func lookup(_ name: String, language: String, preferring codec: AudioFileFormat) throws(SoundLookupError) -> SoundFile {
        let formats = codec.preferenceOrder
        if name.hasPrefix("/") {
            guard let file = Self.bestFile(base: name, formats: formats) else {
                throw .notFound(name: name, language: language)
            }
            return file
        }
        guard let relative = Self.normalised(name) else { throw .refusedName(name) }
        var languages: [String] = []
        if Self.isPlainLanguage(language) { languages.append(language) }
        if !languages.contains(Self.fallbackLanguage) { languages.append(Self.fallbackLanguage) }

        for lang in languages {
            for dir in self.searchPath {
                for base in [dir + "/" + lang + "/" + relative, dir + "/" + relative] {
                    if let file = Self.bestFile(base: base, formats: formats) { return file }
                }
            }
        }
        throw .notFound(name: name, language: language)
    }

    /// The first of `formats` present as `base.<ext>` (a regular file, or a link to one).
    static func bestFile(base: String, formats: [AudioFileFormat]) -> SoundFile? {
        for format in formats {
            let path = base + "." + format.fileExtension
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return SoundFile(path: path, format: format)
            }
        }
        return nil
    }

    /// A language usable as one directory name: `en`, `ru`, `en_US`, not `../x` or `a/b`.
    static func isPlainLanguage(_ language: String) -> Bool {
        !language.isEmpty && language != "." && language != ".."
            && !language.contains("/") && !language.contains("\0")
    }

    /// `name` with `.` and empty components removed and `..` applied, or nil when it is empty,
    /// absolute, or climbs above its root.
    static func normalised(_ name: String) -> String? {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains("\0") else { return nil }
        var parts: [Substring] = []
        for component in name.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                if parts.isEmpty { return nil }
                parts.removeLast()
            default: parts.append(component)
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }
}

/// Why `SoundLibrary.lookup` found nothing.
public enum SoundLookupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Empty, or a `..` that leaves the sound directory.
    case refusedName(String)
    case notFound(name: String, language: String)

    public var description: String {
        switch self {
        case let .refusedName(name): "sound name '\(name)' refused: empty, or '..' leads outside the sound directories"
        case let .notFound(name, language):
            "sound '\(name)' not found for language '\(language)'\(language == SoundLibrary.fallbackLanguage ? "" : " nor '\(SoundLibrary.fallbackLanguage)'") in a supported format (.ulaw .alaw .wav .sln)"
        }
    }
}
