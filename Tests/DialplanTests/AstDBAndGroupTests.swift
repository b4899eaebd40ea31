import Foundation
import PBXCore
import Testing
@testable import Dialplan

/// `DB()` over the in-memory AstDB (the SQLite one is tested in StorageTests), and `GROUP()`/`GROUP_COUNT()` across
/// channels.
struct AstDBAndGroupTests {
    /// Runs `plan` from 100@default with `astDB`, returning the caller ID names it set.
    static func names(_ plan: String, astDB: any AstDB, log: LogCapture = LogCapture()) async throws -> [String] {
        let executor = DialplanExecutor(dialplan: try loadDialplan(plan), dialer: FakeDialer(), astDB: astDB, logger: log.logger)
        let channel = FakeChannel()
        await executor.run(channel: channel, context: "default", exten: "100")
        return await channel.events.compactMap { event in
            if case .setCallerID(_, let name) = event { return name }
            return nil
        }
    }

    @Test func valuesWrittenByOneCallAreReadByTheNext() async throws {
        let db = InMemoryAstDB()
        _ = try await Self.names("""
            [default]
            exten => 100,1,Set(DB(night/mode)=on)
             same => n,Set(DB(cf/1001)=5551234)
             same => n,Set(DB(cf/1002)=5550000)
             same => n,Set(DB_DELETE(cf/1002)=)
            """, astDB: db)

        let names = try await Self.names("""
            [default]
            exten => 100,1,Set(CALLERID(name)=${DB(night/mode)} ${DB_EXISTS(cf/1001)} ${DB_RESULT} ${DB_EXISTS(cf/1002)} [${DB(cf/9999)}])
             same => n,Set(CALLERID(name)=deleted ${DB_DELETE(cf/1001)} ${DB_RESULT} ${DB_EXISTS(cf/1001)})
            """, astDB: db)
        #expect(names == ["on 1 5551234 0 []", "deleted 5551234 5551234 0"])
        #expect(try await db.entries(family: "cf").isEmpty)
        #expect(try await db.entries(family: "night").map(\.value) == ["on"])
    }

    @Test func inMemoryDatabaseAndBadArguments() async throws {
        let db = InMemoryAstDB()
        let log = LogCapture()
        let names = try await Self.names("""
            [default]
            exten => 100,1,Set(DB(a/b/c)=deep)
             same => n,Set(DB(a/b/d)=deeper)
             same => n,Set(DB(a/x)=1)
             same => n,Set(DB(z/y)=2)
             same => n,Set(CALLERID(name)=${DB(a/b/c)}|${DB(nokey)}|${DB_EXISTS(a/)}|${DB_KEYS(a)}|${DB_KEYS()}|${DB_KEYS(none)})
            """, astDB: db, log: log)
        #expect(names == ["deep|||b,x|a,z|"])
        // The key may contain '/': only the first one separates the family.
        #expect(await db.get(family: "a", key: "b/c") == "deep")
        #expect(log.messages.filter { $0.contains("requires an argument") }.count == 2)
    }

    @Test func groupCountsChannelsAcrossExecutionsAndReleasesThemAtTheEnd() async throws {
        let groups = ChannelGroups()
        let executor = DialplanExecutor(dialplan: try loadDialplan("""
            [default]
            exten => 100,1,Set(GROUP(trunk)=out)
             same => n,Set(CALLERID(name)=${GROUP_COUNT(out@trunk)} ${GROUP(trunk)})
            """), dialer: FakeDialer(), groups: groups)
        let location = DialplanLocation(context: "default", exten: "100", priority: 1)
        let a = ChannelExecution(channel: FakeChannel(name: "SIP/a-1", uniqueID: "a"), executor: executor, location: location)
        let b = ChannelExecution(channel: FakeChannel(name: "SIP/b-2", uniqueID: "b"), executor: executor, location: location)

        try await a.assign("GROUP(trunk)", value: "out")
        try await b.assign("GROUP()", value: "out@trunk")
        #expect(await a.substitute("${GROUP_COUNT(out@trunk)} ${GROUP_COUNT(OUT@TRUNK)} ${GROUP(trunk)}") == "2 2 out")
        try await b.assign("GROUP(trunk)", value: "other")
        try await b.assign("GROUP()", value: "sales")
        #expect(await b.substitute("${GROUP_COUNT(out@trunk)} ${GROUP_COUNT(other@trunk)} ${GROUP_COUNT()} ${GROUP_LIST()}")
                == "1 1 1 other@trunk sales")
        #expect(await a.substitute("${GROUP_COUNT()}") == "0")

        // A third channel, run through the dialplan, counts itself and `a`, then leaves.
        let c = FakeChannel(name: "SIP/c-3", uniqueID: "c")
        await executor.run(channel: c, context: "default", exten: "100")
        #expect(await c.events.first == .setCallerID(number: "1001", name: "2 out"))
        #expect(groups.count(group: "out", category: "trunk") == 1)
        #expect(groups.group(of: "c", category: "trunk") == nil)
    }
}
