import Testing
@testable import PBXCore

/// Asterisk's comment rules: `;` line comments, `\;` escapes, `;-- --;` block comments.
struct ConfigCommentTests {
    @Test func lineCommentsAndEscapes() throws {
        let config = try ConfigFile.parse("""
            [s] ; a section
            a = 1 ; trailing
            b = x\\;y ; escaped semicolon kept
            ;------------------------------------------;
            ;--- three dashes are a line comment
            c = 3
            """, fileName: "t.conf")
        let section = try #require(config.section("s"))
        #expect(section.entries.map(\.key) == ["a", "b", "c"])
        #expect(section["b"] == "x;y")
    }

    @Test func blockCommentsSpanLinesNestAndKeepSurroundingText() throws {
        let config = try ConfigFile.parse("""
            [s]
            a = 1 ;-- inline block --; ; then a line comment
            ;-- starts here
            hidden = 1
              ;-- nested
              hidden2 = 2
              --;
            still = hidden
            --; b = 2
            c = 3;--x--;4
            """, fileName: "t.conf")
        let section = try #require(config.section("s"))
        #expect(section.entries.map(\.key) == ["a", "b", "c"])
        #expect(section["a"] == "1")
        #expect(section["c"] == "34")
        #expect(section.entries.map(\.location.line) == [2, 9, 10])
    }

    @Test func unterminatedBlockCommentIsAnError() {
        let error = #expect(throws: ConfigError.self) {
            _ = try ConfigFile.parse("[s]\na = 1\n;-- oops\nb = 2\n", fileName: "t.conf")
        }
        #expect(error?.location == SourceLocation(file: "t.conf", line: 3))
    }
}
