import PBXCore
import Testing

@testable import AMI

@Suite struct ManagerConfigTests {
    func parse(_ text: String) throws -> ManagerConfig {
        try ManagerConfig(try ConfigFile.parse(text, fileName: "manager.conf"))
    }

    @Test func generalAndUsers() throws {
        let config = try parse("""
            [general]
            enabled = yes
            port = 15038
            bindaddr = 127.0.0.1
            timestampevents = yes
            webenabled = no
            [crm]
            secret = s3cret
            read = call,agent
            write = originate,call
            deny = 0.0.0.0/0.0.0.0
            permit = 127.0.0.1/255.255.255.255
            eventfilter = Event: Newchannel
            eventfilter = !Event: VarSet
            [nosecret]
            read = all
            """)
        #expect(config.enabled && config.port == 15038 && config.bindAddress == "127.0.0.1" && config.timestampEvents)
        let crm = try #require(config.user(named: "CRM"))
        #expect(crm.read == [.call, .agent])
        #expect(crm.write == [.originate, .call])
        #expect(crm.acl.allows("127.0.0.1") && !crm.acl.allows("10.1.2.3"))
        #expect(crm.eventFilters.filters.map(\.isExclude) == [false, true])
        #expect(config.user(named: "nosecret") == nil)
        #expect(config.warnings.map(\.location.line) == [6, 15])
    }

    @Test func defaultsMatchAsterisk() throws {
        let config = try parse("[general]\n")
        #expect(!config.enabled && config.port == 5038 && config.bindAddress == "0.0.0.0" && config.displayConnects)
    }

    @Test(arguments: [
        ("[general]\nport = 70000\n", 2),
        ("[general]\nbindaddr = not-an-ip\n", 2),
        ("[general]\nenabled = maybe\n", 2),
        ("[u]\nsecret = x\nread = call,bogus\n", 3),
        ("[u]\nsecret = x\npermit = 300.1.1.1\n", 3),
        ("[u]\nsecret = x\neventfilter = (unclosed\n", 3),
    ])
    func invalidValuesNameFileAndLine(text: String, line: Int) throws {
        #expect { try parse(text) } throws: { error in
            (error as? ConfigError)?.location?.line == line && "\(error)".hasPrefix("manager.conf:\(line): ")
        }
    }

    @Test func sampleConfigLoads() throws {
        let path = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let config = try ManagerConfig.load(path: "/" + path + "/conf/manager.conf")
        #expect(config.enabled && config.warnings.isEmpty)
        #expect(config.user(named: "admin")?.write == .all)
        #expect(config.user(named: "wallboard")?.write == [])
    }
}
