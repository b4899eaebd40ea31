import Foundation
import RTPMedia

/// musiconhold.conf: the classes `MusicOnHold(class)` plays, as in Asterisk's res_musiconhold
/// with `mode=files` (the only mode supported; `custom`/`mp3` players are not).
///
/// ```
/// [default]
/// mode = files
/// directory = ../sounds/moh   ; relative to the config directory
/// sort = alpha                ; alpha (default) or random
/// ```
///
/// The directory is listed once at load: each sound file in a format pbxd plays (`.ulaw`,
/// `.alaw`, `.wav`, `.sln`) is one entry, by name without extension (a file present in several
/// formats counts once; the channel's codec picks the format). A class whose directory is
/// missing or has no playable file is left out with a warning, as Asterisk does.
public struct MusicOnHoldConfig: Sendable {
    public struct MusicClass: Sendable, Equatable {
        public var name: String
        public var directory: String
        /// Absolute paths without extension, in play order for `alpha`.
        public var files: [String]
        public var random: Bool

        public init(name: String, directory: String, files: [String], random: Bool) {
            self.name = name
            self.directory = directory
            self.files = files
            self.random = random
        }
    }

    public var classes: [String: MusicClass] = [:]
    public var warnings: [ConfigWarning] = []

    public init(classes: [String: MusicClass] = [:]) {
        self.classes = classes
    }

    public static func load(path: String) throws(ConfigError) -> MusicOnHoldConfig {
        try MusicOnHoldConfig(try ConfigFile.load(path: path), relativeTo: (path as NSString).deletingLastPathComponent)
    }

    public init(_ file: ConfigFile, relativeTo base: String?) throws(ConfigError) {
        self.init()
        for section in file.sections where section.name.lowercased() != "general" {
            var mode = "files", directory: String?, random = false
            for entry in section.entries {
                switch entry.key.lowercased() {
                case "mode":
                    mode = entry.value.lowercased()
                case "directory":
                    guard !entry.value.isEmpty else { throw entry.invalid("expected a directory") }
                    directory =
                        entry.value.hasPrefix("/") || base == nil
                        ? entry.value
                        : ((base! as NSString).appendingPathComponent(entry.value) as NSString).standardizingPath
                case "sort":
                    switch entry.value.lowercased() {
                    case "alpha": random = false
                    case "random", "randstart": random = true
                    default: throw entry.invalid("expected alpha or random")
                    }
                default:
                    warnings.append(
                        ConfigWarning(
                            "unknown option '\(entry.key)' in musiconhold.conf [\(section.name)]; ignored", at: entry.location))
                }
            }
            guard mode == "files" else {
                throw ConfigError(
                    "class '\(section.name)': mode=\(mode) is not supported (only mode=files)", at: section.location)
            }
            guard let directory else {
                throw ConfigError("class '\(section.name)' has no directory=", at: section.location)
            }
            let files = Self.soundFiles(in: directory)
            guard !files.isEmpty else {
                warnings.append(
                    ConfigWarning(
                        "music on hold class '\(section.name)': no playable file in '\(directory)'; class not loaded",
                        at: section.location))
                continue
            }
            classes[section.name] = MusicClass(name: section.name, directory: directory, files: files, random: random)
        }
    }

    /// The sound files of `directory` as absolute paths without extension, sorted by name.
    static func soundFiles(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let extensions = Set(AudioFileFormat.allCases.map(\.fileExtension))
        var bases = Set<String>()
        for name in names where !name.hasPrefix(".") {
            let ext = (name as NSString).pathExtension
            guard extensions.contains(ext) else { continue }
            bases.insert((directory as NSString).appendingPathComponent((name as NSString).deletingPathExtension))
        }
        return bases.sorted()
    }
}
