import Foundation
import PBXCore
import Testing
@testable import HTTPServer

@Suite struct HTTPServerConfigTests {
    func load(_ text: String) throws -> (config: HTTPServerConfig, warnings: [ConfigWarning]) {
        try HTTPServerConfig.load(from: ConfigFile.parse(text, fileName: "pbxd.conf"))
    }

    @Test func offWithoutASection() throws {
        let (config, warnings) = try load("[general]\ndatadir=/x\n")
        #expect(!config.enabled && config.port == 8088 && config.bindAddress == "127.0.0.1" && warnings.isEmpty)
    }

    @Test func readsEveryKey() throws {
        let (config, warnings) = try load("""
            [http]
            enabled = yes
            bindaddr = ::1
            bindport = 8089
            secret = abc
            linkttl = 300
            foo = 1
            """)
        #expect(config.enabled && config.bindAddress == "::1" && config.port == 8089 && config.secret == "abc")
        #expect(config.linkTTLSeconds == 300 && config.linkBase == "http://[::1]:8089")
        #expect(warnings.map(\.description) == ["pbxd.conf:7: unknown option 'foo' in pbxd.conf [http]; ignored"])
        let (public_, _) = try load("[http]\nport=8088\npublicurl=https://pbx.example.com/\n")
        #expect(public_.linkBase == "https://pbx.example.com")
    }

    @Test func enabledWithoutSecretWarnsAndBadValuesFail() throws {
        let (config, warnings) = try load("[http]\nenabled=yes\n")
        #expect(config.enabled && config.secret == nil)
        #expect(warnings.count == 1 && warnings[0].message.contains("no secret"))
        let (_, wildcard) = try load("[http]\nenabled=yes\nsecret=x\nbindaddr=0.0.0.0\n")
        #expect(wildcard.count == 1 && wildcard[0].message.contains("without publicurl"))
        #expect(try load("[http]\nenabled=yes\nsecret=x\nbindaddr=0.0.0.0\npublicurl=http://pbx:8088\n").warnings.isEmpty)
        for bad in ["[http]\nport=0", "[http]\nport=http", "[http]\nlinkttl=0", "[http]\nenabled=maybe", "[http]\npublicurl=pbx.example.com",
                    "[http]\nbindaddr="] {
            #expect(throws: ConfigError.self, "\(bad)") { try load(bad) }
        }
    }

    /// The sample conf/pbxd.conf turns the port on where Asterisk's http.conf has it.
    @Test func sampleConfigurationServesOnLoopback8088() throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../conf/pbxd.conf").path
        let (config, warnings) = try HTTPServerConfig.load(from: ConfigFile.load(path: sample))
        #expect(config.enabled && config.bindAddress == "127.0.0.1" && config.port == 8088 && config.secret != nil)
        #expect(config.linkBase == "http://127.0.0.1:8088" && warnings.isEmpty)
    }
}
