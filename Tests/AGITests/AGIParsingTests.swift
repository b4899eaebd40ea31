import Testing
@testable import AGI

@Suite struct AGIParsingTests {
    @Test func commandLinesSplitLikeResAGI() {
        #expect(AGICommandLine("STREAM FILE demo-congrats \"\"").words == ["STREAM", "FILE", "demo-congrats", ""])
        #expect(AGICommandLine("SET VARIABLE MYVAR \"hello world\"").words == ["SET", "VARIABLE", "MYVAR", "hello world"])
        #expect(AGICommandLine("  VERBOSE\t\"a \\\"q\\\"\"  1 ").words == ["VERBOSE", "a \"q\"", "1"])
        #expect(AGICommandLine("EXEC Dial SIP/1002,30").words == ["EXEC", "Dial", "SIP/1002,30"])
        #expect(AGICommandLine("").words == [])
    }

    @Test func commandTableMatchesLongestNameCaseInsensitively() {
        let table = AGICommandTable.standard
        #expect(table.command(for: AGICommandLine("get full variable ${X}"))?.words == ["GET", "FULL", "VARIABLE"])
        #expect(table.command(for: AGICommandLine("Get Variable X"))?.words == ["GET", "VARIABLE"])
        #expect(table.command(for: AGICommandLine("GET")) == nil)
        #expect(table.command(for: AGICommandLine("FOO BAR")) == nil)
    }

    @Test func fastAGIURLs() {
        #expect(address("agi://127.0.0.1:4573/test?x=1") == ["127.0.0.1", "4573", "test?x=1"])
        #expect(address("agi://crm.example") == ["crm.example", "4573", ""])
        #expect(address("agi://[::1]:9000/a/b") == ["::1", "9000", "a/b"])
        #expect(FastAGIAddress(url: "agi://host:0/x") == nil)
        #expect(FastAGIAddress(url: "agi:///x") == nil)
        #expect(FastAGIAddress(url: "http://host/x") == nil)
    }

    /// host, port, script of a URL.
    private func address(_ url: String) -> [String]? {
        FastAGIAddress(url: url).map { [$0.host, String($0.port), $0.script] }
    }

    @Test func callerIDForms() {
        #expect(AGIDialplanCommands.parseCallerID("\"John Smith\" <5551234>") == ("5551234", "John Smith"))
        #expect(AGIDialplanCommands.parseCallerID("5551234") == ("5551234", nil))
    }
}
