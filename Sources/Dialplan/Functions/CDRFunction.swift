import Foundation
import PBXCore

/// `CDR(name[,options])` (Asterisk func_cdr) over the CDR engine's `CDRVariableStore`.
///
/// Write: `userfield`, `accountcode`, `amaflags` (OMIT/BILLING/DOCUMENTATION) and any custom
/// name (`recordingfile`, `did`…, stored in a column of that name where the backend has one).
/// The built-in fields the engine computes are read-only, as in Asterisk.
///
/// Read: the writable names; `channel`, `uniqueid`, `linkedid`, `src`, `clid`, `dst`,
/// `dcontext` from the live channel; `start`, `answer`, `duration`, `billsec`, `disposition`
/// from the engine's live fields (option `u`: epoch seconds; `f`: fractional seconds). `end`,
/// `lastapp`, `lastdata`, `dstchannel`, `peeraccount` and `sequence` are only known once the
/// record is final, so reading them mid-call is an error rather than a guess.
public enum CDRFunction {
    static let readOnly: Set<String> = [
        "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata", "start", "answer",
        "end", "duration", "billsec", "disposition", "uniqueid", "linkedid", "peeraccount", "sequence",
    ]

    public static func make(store: CDRVariableStore) -> DialplanFunction {
        DialplanFunction(
            name: "CDR",
            read: { execution, arguments in try await read(execution, arguments, store: store) },
            write: { execution, arguments, value in try write(execution, arguments, value, store: store) })
    }

    static func parse(_ arguments: String) throws -> (name: String, options: String) {
        let parts = ArgumentSplitter.split(arguments)
        let name = (parts.first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        guard !name.isEmpty else { throw DialplanError("CDR: a field name is required, CDR(<name>[,options])") }
        return (name, parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
    }

    static func write(_ execution: ChannelExecution, _ arguments: String, _ value: String, store: CDRVariableStore) throws {
        let (name, _) = try parse(arguments)
        guard !readOnly.contains(name) else { throw DialplanError("CDR: '\(name)' is read-only") }
        if name == "amaflags" {
            guard let flags = AMAFlags(rawValue: value.uppercased()) else {
                throw DialplanError("CDR: amaflags must be OMIT, BILLING or DOCUMENTATION, not '\(value)'")
            }
            store.set(name, flags.rawValue, channel: execution.channel.uniqueID)
            return
        }
        store.set(name, value, channel: execution.channel.uniqueID)
    }

    static func read(_ execution: ChannelExecution, _ arguments: String, store: CDRVariableStore) async throws -> String {
        let (name, options) = try parse(arguments)
        let channel = execution.channel
        let live = store.variables(channel: channel.uniqueID)
        func time(_ key: String) -> Double? { live[key].flatMap(Double.init) }
        func seconds(since key: String) -> String {
            guard let from = time(key) else { return "0" }
            let elapsed = max(0, execution.executor.clock().timeIntervalSince1970 - from)
            return options.contains("f") ? String(format: "%.6f", elapsed) : String(Int(elapsed))
        }
        switch name {
        case "channel": return channel.name
        case "uniqueid": return channel.uniqueID
        case "linkedid": return channel.linkedID
        case "src": return await execution.callerID().number
        case "clid":
            let (number, name) = await execution.callerID()
            return "\"\(name)\" <\(number)>"
        case "dst": return execution.location.exten
        case "dcontext": return execution.location.context
        case "accountcode":
            if let value = live["accountcode"] { return value }
            return await channel.snapshot.accountCode
        case "amaflags": return live["amaflags"] ?? AMAFlags.documentation.rawValue
        case "start", "answer":
            guard let epoch = time(name) else { return "" }
            return options.contains("u") ? String(format: "%.6f", epoch) : CDRTimestamp.text(epoch, utc: false)
        case "duration": return seconds(since: "start")
        case "billsec": return seconds(since: "answer")
        case "disposition":
            return live["disposition"] ?? (live["answer"] != nil ? CDRDisposition.answered.rawValue : CDRDisposition.noAnswer.rawValue)
        case "end", "lastapp", "lastdata", "dstchannel", "peeraccount", "sequence":
            throw DialplanError("CDR: '\(name)' is only known when the record is finished")
        default:
            return live[name] ?? ""
        }
    }
}
