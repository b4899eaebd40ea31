import Foundation
import Testing
@testable import RTPMedia

/// Lookup order over real directories in a temp dir: language, English fallback, codec
/// preference, flat layout, subdirectories, absolute paths, refused names.
@Suite struct SoundLibraryTests {
    typealias T = SoundTestSupport
    let root: String
    let first: String
    let second: String

    init() throws {
        self.root = try T.makeTemporaryDirectory()
        self.first = root + "/pbxd"
        self.second = root + "/asterisk"
        let wav = WAVFile(sampleRate: 8000, samples: [1, 2, 3]).encoded()
        for (dir, name) in [
            (first, "en/hello.wav"), (first, "ru/hello.wav"),
            (first, "en/only-en.wav"),
            (second, "fr/only-en.wav"),             // a French prompt in the later directory
            (first, "en/multi.wav"), (first, "en/multi.ulaw"), (first, "en/multi.alaw"), (first, "en/multi.sln"),
            (first, "en/lin.wav"), (first, "en/lin.alaw"),
            (first, "en/alaw-only.alaw"),
            (first, "en/override.wav"), (second, "en/override.ulaw"),
            (second, "flat.sln"),                    // Asterisk's old flat layout
            (first, "en/custom/welcome.wav"),
            (first, "en/gsm-only.gsm"), (first, "en/upper.WAV"), (first, "en/wide.sln16"),
            (root, "secret.wav"),                   // outside both sound directories
        ] {
            try T.write(wav, to: name, in: dir)
        }
        try FileManager.default.createDirectory(atPath: first + "/en/dir.wav", withIntermediateDirectories: true)
    }

    var library: SoundLibrary { SoundLibrary(searchPath: [first, second]) }

    func found(_ name: String, _ language: String = "en", _ codec: AudioFileFormat = .ulaw) -> String? {
        self.library.find(name, language: language, preferring: codec)?.path
    }

    @Test func channelLanguageFirstThenEnglish() {
        defer { T.removeTemporaryDirectory(root) }
        #expect(found("hello", "ru") == first + "/ru/hello.wav")
        #expect(found("hello", "en") == first + "/en/hello.wav")
        #expect(found("hello", "de") == first + "/en/hello.wav")
        // The channel's language is looked for in every directory before English anywhere.
        #expect(found("only-en", "fr") == second + "/fr/only-en.wav")
        #expect(found("only-en", "ru") == first + "/en/only-en.wav")
    }

    @Test func codecPreferenceWithinALocation() {
        defer { T.removeTemporaryDirectory(root) }
        #expect(library.find("multi", language: "en", preferring: .ulaw) == SoundFile(path: first + "/en/multi.ulaw", format: .ulaw))
        #expect(library.find("multi", language: "en", preferring: .alaw) == SoundFile(path: first + "/en/multi.alaw", format: .alaw))
        #expect(library.find("multi", language: "en", preferring: .wav) == SoundFile(path: first + "/en/multi.wav", format: .wav))
        #expect(found("lin", "en", .ulaw) == first + "/en/lin.wav")   // linear beats the other law
        #expect(found("lin", "en", .alaw) == first + "/en/lin.alaw")
        #expect(found("alaw-only", "en", .ulaw) == first + "/en/alaw-only.alaw")
        // An earlier directory wins over a better format in a later one.
        #expect(found("override", "en", .ulaw) == first + "/en/override.wav")
    }

    @Test func layoutsAndPaths() {
        defer { T.removeTemporaryDirectory(root) }
        #expect(library.find("flat", language: "ru", preferring: .ulaw) == SoundFile(path: second + "/flat.sln", format: .sln))
        #expect(found("custom/welcome") == first + "/en/custom/welcome.wav")
        #expect(found("custom/../hello", "ru") == first + "/ru/hello.wav")
        #expect(found("./custom//welcome") == first + "/en/custom/welcome.wav")
        #expect(found(first + "/en/custom/welcome") == first + "/en/custom/welcome.wav")
        #expect(found(first + "/en/nothing") == nil)
    }

    @Test func unsupportedFormatsAndDirectoriesAreNotFound() {
        defer { T.removeTemporaryDirectory(root) }
        #expect(found("gsm-only") == nil)
        #expect(found("upper") == nil)
        #expect(found("wide") == nil)
        #expect(found("dir") == nil)
        #expect(found("missing") == nil)
        #expect(throws: SoundLookupError.notFound(name: "missing", language: "en")) {
            try library.lookup("missing", language: "en", preferring: .ulaw)
        }
    }

    @Test func dotDotOutsideTheSearchPathIsRefused() {
        defer { T.removeTemporaryDirectory(root) }
        // ../secret from <dir> would be <root>/secret.wav, which exists.
        #expect(FileManager.default.fileExists(atPath: root + "/secret.wav"))
        for name in ["../secret", "../../secret", "custom/../../secret", "..", "", "."] {
            #expect(found(name) == nil, "\(name)")
            #expect(throws: SoundLookupError.refusedName(name)) {
                try library.lookup(name, language: "en", preferring: .ulaw)
            }
        }
        // A hostile language is ignored, not used as a path: English is still found.
        #expect(found("hello", "..") == first + "/en/hello.wav")
        #expect(found("hello", "../ru") == first + "/en/hello.wav")
        #expect(found("secret", "..") == nil)
    }

    @Test func defaultSearchPathAndChannelCodecs() {
        defer { T.removeTemporaryDirectory(root) }
        #expect(SoundLibrary.defaultSearchPath(bundledSounds: "/opt/pbxd/sounds") == ["/opt/pbxd/sounds", "/usr/share/asterisk/sounds"])
        #expect(AudioFileFormat(channelCodec: .pcmu) == .ulaw)
        #expect(AudioFileFormat(channelCodec: .pcma) == .alaw)
        #expect(AudioFileFormat(channelCodec: Codec(name: "pcmu", clockRate: 8000, payloadType: 0)) == .ulaw)
        #expect(AudioFileFormat(channelCodec: .g722) == nil)
        #expect(G711Law(codec: .pcma) == .aLaw)
        #expect(G711Law(codec: .telephoneEvent()) == nil)
    }
}
