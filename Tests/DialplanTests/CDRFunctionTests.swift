import Foundation
import PBXCore
import Testing
@testable import Dialplan

/// `CDR()` reads and writes the CDR engine's per-channel store (the path from the dialplan to
/// the record), keeps the computed fields read-only and reports bad input.
struct CDRFunctionTests {
    /// Runs `plan` from 100@default with CDR() registered; returns the store and the caller
    /// ID names the plan set (used to read values back).
    static func run(_ plan: String, store: CDRVariableStore) async throws -> (names: [String], log: String) {
        var functions = FunctionRegistry.standard
        functions.register(CDRFunction.make(store: store))
        let log = LogCapture()
        let executor = DialplanExecutor(dialplan: try loadDialplan(plan), dialer: FakeDialer(), functions: functions,
                                        logger: log.logger)
        let channel = FakeChannel()
        await executor.run(channel: channel, context: "default", exten: "100")
        let names = await channel.events.compactMap { event -> String? in
            if case .setCallerID(_, let name) = event { return name }
            return nil
        }
        return (names, log.messages.joined(separator: "\n"))
    }

    @Test func writesReachTheStoreAndReadBack() async throws {
        let store = CDRVariableStore()
        let (names, _) = try await Self.run("""
            [default]
            exten => 100,1,Set(CDR(userfield)=vip customer)
             same => n,Set(CDR(accountcode)=sales)
             same => n,Set(CDR(recordingfile)=in-100-1001.wav)
             same => n,Set(CDR(amaflags)=billing)
             same => n,Set(CALLERID(name)=${CDR(userfield)}|${CDR(accountcode)}|${CDR(amaflags)}|${CDR(src)}|${CDR(dst)}|${CDR(uniqueid)})
            """, store: store)
        #expect(names == ["vip customer|sales|BILLING|1001|100|1732200000.1"])
        let stored = store.variables(channel: "1732200000.1")
        #expect(stored["userfield"] == "vip customer" && stored["accountcode"] == "sales")
        #expect(stored["recordingfile"] == "in-100-1001.wav" && stored["amaflags"] == "BILLING")
    }

    @Test func computedFieldsAreReadOnlyAndBadValuesAreRefused() async throws {
        let store = CDRVariableStore()
        let (_, log) = try await Self.run("""
            [default]
            exten => 100,1,Set(CDR(billsec)=99)
            """, store: store)
        #expect(log.contains("'billsec' is read-only"))
        #expect(store.variables(channel: "1732200000.1")["billsec"] == nil)

        let (_, badFlags) = try await Self.run("""
            [default]
            exten => 100,1,Set(CDR(amaflags)=sometimes)
            """, store: store)
        #expect(badFlags.contains("amaflags must be OMIT, BILLING or DOCUMENTATION"))
    }
}
