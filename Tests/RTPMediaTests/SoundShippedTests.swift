import Foundation
import Testing
@testable import RTPMedia

/// The prompt set committed in sounds/en (made by sounds/make-sounds.sh) is complete, in the
/// advertised format, and found by the library under Asterisk's names.
@Suite struct SoundShippedTests {
    typealias T = SoundTestSupport
    static let soundsDirectory = T.repositoryRoot + "/sounds"

    static let expectedNames: [String] = {
        var names = (0 ... 20).map { "digits/\($0)" } + stride(from: 30, through: 90, by: 10).map { "digits/\($0)" }
        names += ["digits/hundred", "digits/thousand", "digits/million", "digits/star", "digits/pound"]
        names += "abcdefghijklmnopqrstuvwxyz".map { "letters/\($0)" }
        names += [
            "agent-user", "agent-pass", "agent-loginok", "agent-loggedoff", "auth-thankyou",
            "queue-youarenext", "queue-thereare", "queue-callswaiting", "queue-holdtime", "queue-minute",
            "queue-minutes", "queue-seconds", "queue-thankyou", "queue-reporthold", "queue-periodic-announce",
            "queue-less-than", "pls-hold-while-try", "vm-goodbye", "demo-congrats", "demo-thanks", "invalid",
            "pbx-invalid", "pbx-transfer", "please-try-again", "goodbye", "beep", "silence/1", "hello-world",
            // pbxd's own, for the sample menu in conf/extensions.conf.
            "ivr-menu", "ivr-after-hours",
            // pbxd's own, for queue agents (announce-agent-id, hot-desking feature codes).
            "agent-id", "agent-incorrect", "agent-paused", "agent-unpaused", "agent-wrapup-ended",
        ]
        return names
    }()

    @Test(arguments: expectedNames)
    func promptExistsAndParses(_ name: String) throws {
        let library = SoundLibrary(searchPath: [Self.soundsDirectory])
        let file = try #require(library.find(name, language: "en", preferring: .ulaw), "missing prompt \(name)")
        #expect(file.path == Self.soundsDirectory + "/en/\(name).wav")
        let wav = try WAVFile(parsing: try Data(contentsOf: URL(fileURLWithPath: file.path)))
        #expect(wav.sampleRate == 8000)
        if name == "silence/1" {
            #expect(wav.samples.count == 8000)
            #expect(wav.samples.allSatisfy { $0 == 0 })
        } else {
            // Spoken prompts: between 0.2 s and 20 s, with real signal in them.
            #expect((1600 ... 160_000).contains(wav.samples.count), "\(name): \(wav.samples.count) samples")
            #expect(wav.samples.map { abs(Int($0)) }.max()! > 8000, "\(name) is near silent")
        }
    }

    @Test func digitFiveIsFoundForAnyLanguageByFallback() throws {
        let library = SoundLibrary(searchPath: SoundLibrary.defaultSearchPath(bundledSounds: Self.soundsDirectory))
        let file = try #require(library.find("digits/5", language: "xx", preferring: .alaw))
        #expect(file == SoundFile(path: Self.soundsDirectory + "/en/digits/5.wav", format: .wav))
        let frames = FrameSource(try file.read(), law: .aLaw)
        #expect(frames.frameCount > 10)
    }

    @Test func beepIsAOneKilohertzTone() throws {
        let data = try SoundFile(path: Self.soundsDirectory + "/en/beep.wav", format: .wav).read()
        let samples = data.samples8k()
        #expect(samples.count == 2000)
        let at1k = T.goertzelPower(samples, frequency: 1000, rate: 8000)
        for other in [440.0, 800, 1200, 2000] {
            #expect(at1k > 100 * T.goertzelPower(samples, frequency: other, rate: 8000))
        }
    }

    @Test func setIsSmallAndOnlyWAV() throws {
        let enumerator = try #require(FileManager.default.enumerator(atPath: Self.soundsDirectory + "/en"))
        var total = 0
        var count = 0
        for case let relative as String in enumerator {
            let path = Self.soundsDirectory + "/en/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            #expect(relative.hasSuffix(".wav"), "\(relative)")
            total += try Data(contentsOf: URL(fileURLWithPath: path)).count
            count += 1
        }
        #expect(count == Self.expectedNames.count)
        #expect(total < 2_000_000, "bundled prompts grew to \(total) bytes")
        #expect(FileManager.default.isExecutableFile(atPath: Self.soundsDirectory + "/make-sounds.sh"))
    }
}
