import Foundation
import Testing
@testable import PBXCore

@Suite("musiconhold.conf")
struct MusicOnHoldConfigTests {
    /// A directory with two playable files (one in two formats) and files that aren't sounds.
    static func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pbxd-moh-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["b.wav", "a.ulaw", "a.wav", "notes.txt", ".hidden.wav", "c.gsm"] {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data([0]))
        }
        return dir
    }

    @Test func classesWithFilesSortAndRelativeDirectories() throws {
        let dir = try Self.directory()
        let parent = (dir as NSString).deletingLastPathComponent, leaf = (dir as NSString).lastPathComponent
        let text = """
            [general]
            [default]
            mode=files
            directory=\(dir)
            [shuffled]
            directory=\(leaf)
            sort=random
            colour=blue
            """
        let config = try MusicOnHoldConfig(try ConfigFile.parse(text, fileName: "musiconhold.conf"), relativeTo: parent)
        #expect(
            config.classes["default"] == .init(name: "default", directory: dir, files: [dir + "/a", dir + "/b"], random: false))
        #expect(config.classes["shuffled"]?.random == true && config.classes["shuffled"]?.directory == dir)
        #expect(config.classes.count == 2)
        #expect(config.warnings.map(\.message) == ["unknown option 'colour' in musiconhold.conf [shuffled]; ignored"])
    }

    @Test func emptyOrMissingDirectoryLeavesTheClassOutWithAWarning() throws {
        let text = "[empty]\nmode=files\ndirectory=/nonexistent-pbxd-moh\n"
        let config = try MusicOnHoldConfig(try ConfigFile.parse(text, fileName: "musiconhold.conf"), relativeTo: nil)
        #expect(config.classes.isEmpty)
        #expect(config.warnings.count == 1 && config.warnings[0].message.contains("no playable file"))
    }

    @Test func errors() throws {
        for text in ["[x]\nmode=custom\ndirectory=/tmp\n", "[x]\nmode=files\n", "[x]\ndirectory=/tmp\nsort=shuffle\n"] {
            #expect(throws: ConfigError.self, "\(text)") {
                try MusicOnHoldConfig(try ConfigFile.parse(text, fileName: "musiconhold.conf"), relativeTo: nil)
            }
        }
    }
}
