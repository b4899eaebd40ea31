import Foundation
import Dialplan
import PBXCore

/// The commands that read and change dialplan state: variables, EXEC, VERBOSE, the
/// continuation point, AstDB, NOOP and SET CALLERID. Those marked `allowedWhenDead` work after
/// the channel hung up, as in res_agi.
enum AGIDialplanCommands {
    static let all = [
        setVariable, getVariable, getFullVariable, exec, verbose, setContext, setExtension, setPriority,
        databaseGet, databasePut, databaseDel, databaseDelTree, noop, setCallerID,
    ]

    /// `SET VARIABLE <name> <value>`: a channel variable or a writable function
    /// (`CALLERID(name)`); `200 result=1`.
    static let setVariable = AGICommand(
        "SET VARIABLE", allowedWhenDead: true, usage: " Usage: SET VARIABLE <variablename> <value>"
    ) { context, line in
        guard line.words.count == 4 else { throw AGIUsageError() }
        do {
            try await context.execution.assign(line.words[2], value: line.words[3])
        } catch {
            context.execution.logger.warning("AGI SET VARIABLE \(line.words[2]): \(error)")
        }
        return .result(1)
    }

    /// `GET VARIABLE <name>`: `200 result=1 (<value>)`, or `200 result=0` when it is not set.
    /// Functions (`CALLERID(num)`) and builtins (`EXTEN`) are read too.
    static let getVariable = AGICommand(
        "GET VARIABLE", allowedWhenDead: true, usage: " Usage: GET VARIABLE <variablename>"
    ) { context, line in
        guard line.words.count == 3 else { throw AGIUsageError() }
        guard let value = await context.execution.value(of: line.words[2]) else { return .result(0) }
        return .result(1, "(\(value))")
    }

    /// `GET FULL VARIABLE <expression> [channelname]`: `${...}` expanded; `200 result=0` for
    /// another channel's name.
    static let getFullVariable = AGICommand(
        "GET FULL VARIABLE", allowedWhenDead: true, usage: " Usage: GET FULL VARIABLE <variablename> [<channel name>]"
    ) { context, line in
        guard line.words.count == 4 || line.words.count == 5 else { throw AGIUsageError() }
        if let name = line[4], name != context.channel.name { return .result(0) }
        return .result(1, "(\(await context.execution.substitute(line.words[3])))")
    }

    /// `EXEC <application> <options>`: runs a dialplan application on this channel;
    /// `200 result=0` when it returned normally, `-1` when it asked to hang up or failed,
    /// `-2` when there is no such application. Variables in the options are not expanded
    /// unless `AGIEXECFULL=yes`, as in Asterisk. A jump it makes (Goto) is where the dialplan
    /// goes on after the AGI.
    static let exec = AGICommand("EXEC", allowedWhenDead: true, usage: " Usage: EXEC <application> <options>") { context, line in
        guard line.words.count >= 2 else { throw AGIUsageError() }
        let execution = context.execution
        guard let application = execution.executor.applications[line.words[1]] else {
            execution.logger.warning("AGI EXEC: could not find application \(line.words[1])")
            return .result(-2, failed: true)
        }
        var data = line[2] ?? ""
        if execution.variable("AGIEXECFULL")?.lowercased() == "yes" { data = await execution.substitute(data) }
        execution.logger.debug("AGI EXEC \(application.name)(\(data))")
        do {
            switch try await application.body(execution, data) {
            case .proceed: return .result(0)
            case .hangup: return .result(-1, failed: true)
            }
        } catch {
            execution.logger.warning("AGI EXEC \(application.name) failed: \(error)")
            return .result(-1, failed: true)
        }
    }

    /// `VERBOSE <message> [level]`: logged; `200 result=1`.
    static let verbose = AGICommand("VERBOSE", allowedWhenDead: true, usage: " Usage: VERBOSE <message> <level>") { context, line in
        guard line.words.count >= 2 else { throw AGIUsageError() }
        context.execution.logger.info("AGI: \(line.words[1])")
        return .result(1)
    }

    /// `SET CONTEXT <context>`: where the dialplan goes on after the AGI; `200 result=0`.
    static let setContext = AGICommand("SET CONTEXT", usage: " Usage: SET CONTEXT <desired context>") { context, line in
        guard line.words.count == 3 else { throw AGIUsageError() }
        context.continuation.context = line.words[2]
        return .result(0)
    }

    /// `SET EXTENSION <exten>`; `200 result=0`.
    static let setExtension = AGICommand("SET EXTENSION", usage: " Usage: SET EXTENSION <new extension>") { context, line in
        guard line.words.count == 3 else { throw AGIUsageError() }
        context.continuation.exten = line.words[2]
        return .result(0)
    }

    /// `SET PRIORITY <number or label>`: a label must exist in the (new) extension, else 520.
    static let setPriority = AGICommand("SET PRIORITY", usage: " Usage: SET PRIORITY <priority>") { context, line in
        guard line.words.count == 3 else { throw AGIUsageError() }
        let text = line.words[2]
        if let number = Int(text), number > 0 {
            context.continuation.priority = number
            return .result(0)
        }
        let execution = context.execution
        guard let number = execution.dialplan.findLabel(
            context: context.effectiveContext, exten: context.effectiveExten, label: text,
            callerID: await execution.callerID().number, at: execution.executor.now())
        else { throw AGIUsageError() }
        context.continuation.priority = number
        return .result(0)
    }

    /// `DATABASE GET <family> <key>`: `200 result=1 (<value>)` or `200 result=0`.
    static let databaseGet = AGICommand(
        "DATABASE GET", allowedWhenDead: true, usage: " Usage: DATABASE GET <family> <key>"
    ) { context, line in
        guard line.words.count == 4 else { throw AGIUsageError() }
        guard let value = try? await context.execution.executor.astDB.get(family: line.words[2], key: line.words[3]) else {
            return .result(0)
        }
        return .result(1, "(\(value))")
    }

    /// `DATABASE PUT <family> <key> <value>`: `200 result=1`, or `0` when it could not be stored.
    static let databasePut = AGICommand(
        "DATABASE PUT", allowedWhenDead: true, usage: " Usage: DATABASE PUT <family> <key> <value>"
    ) { context, line in
        guard line.words.count == 5 else { throw AGIUsageError() }
        do {
            try await context.execution.executor.astDB.put(family: line.words[2], key: line.words[3], value: line.words[4])
            return .result(1)
        } catch {
            context.execution.logger.warning("AGI DATABASE PUT failed: \(error)")
            return .result(0)
        }
    }

    /// `DATABASE DEL <family> <key>`: `200 result=1` when the key existed and was removed.
    static let databaseDel = AGICommand(
        "DATABASE DEL", allowedWhenDead: true, usage: " Usage: DATABASE DEL <family> <key>"
    ) { context, line in
        guard line.words.count == 4 else { throw AGIUsageError() }
        let removed = (try? await context.execution.executor.astDB.delete(family: line.words[2], key: line.words[3])) ?? false
        return .result(removed ? 1 : 0)
    }

    /// `DATABASE DELTREE <family> [keytree]`: removes the family's keys (those under `keytree`
    /// when given); `200 result=1` when any were removed.
    static let databaseDelTree = AGICommand(
        "DATABASE DELTREE", allowedWhenDead: true, usage: " Usage: DATABASE DELTREE <family> [keytree]"
    ) { context, line in
        guard line.words.count == 3 || line.words.count == 4 else { throw AGIUsageError() }
        let database = context.execution.executor.astDB
        let family = line.words[2]
        let tree = line[3]
        var removed = 0
        for (key, _) in (try? await database.entries(family: family)) ?? []
        where tree == nil || key == tree || key.hasPrefix(tree! + "/") {
            if (try? await database.delete(family: family, key: key)) == true { removed += 1 }
        }
        return .result(removed > 0 ? 1 : 0)
    }

    /// `NOOP [text]`: `200 result=0`.
    static let noop = AGICommand("NOOP", allowedWhenDead: true, usage: " Usage: NOOP") { _, _ in .result(0) }

    /// `SET CALLERID <"Name" <number>|number>`: `200 result=1`.
    static let setCallerID = AGICommand("SET CALLERID", usage: " Usage: SET CALLERID <number>") { context, line in
        guard line.words.count == 3 else { throw AGIUsageError() }
        let current = await context.execution.callerID()
        let parsed = parseCallerID(line.words[2])
        await context.execution.setCallerID(number: parsed.number, name: parsed.name ?? current.name)
        return .result(1)
    }

    /// `"Name" <number>`, `Name <number>` or a bare number.
    static func parseCallerID(_ text: String) -> (number: String, name: String?) {
        guard let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else {
            return (text.trimmingCharacters(in: .whitespaces), nil)
        }
        let number = String(text[text.index(after: open)..<close])
        let name = text[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return (number, name)
    }
}
