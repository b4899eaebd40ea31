import Foundation

/// A dialplan function: read as `${NAME(args)}`, written as `Set(NAME(args)=value)`.
public struct DialplanFunction: Sendable {
    public typealias Read = @Sendable (_ execution: ChannelExecution, _ arguments: String) async throws -> String
    public typealias Write = @Sendable (_ execution: ChannelExecution, _ arguments: String, _ value: String) async throws -> Void

    public var name: String
    public var read: Read
    /// Nil for read-only functions (`LEN`).
    public var write: Write?

    public init(name: String, read: @escaping Read, write: Write? = nil) {
        self.name = name
        self.read = read
        self.write = write
    }
}

/// Functions by case-insensitive name (Asterisk's `ast_custom_function_find`). Later targets
/// add theirs (`QUEUE_MEMBER`, …) before the executor is created.
public struct FunctionRegistry: Sendable {
    private var functions: [String: DialplanFunction] = [:]

    public init() {}

    public mutating func register(_ function: DialplanFunction) {
        functions[function.name.uppercased()] = function
    }

    public subscript(name: String) -> DialplanFunction? {
        functions[name.uppercased()]
    }

    /// `CALLERID`, `LEN`, `GLOBAL`, the string functions (`CUT`, `FIELDQTY`, `TOUPPER`,
    /// `TOLOWER`, `REGEX`), the logic ones (`IF`, `ISNULL`, `EXISTS`, `SET`, `RAND`,
    /// `LANGUAGE`, `LOCAL`), `STRFTIME`, `DB`/`DB_EXISTS`/`DB_DELETE`/`DB_KEYS` and
    /// `GROUP`/`GROUP_COUNT`/`GROUP_LIST`.
    public static var standard: FunctionRegistry {
        var registry = FunctionRegistry()
        registry.register(callerID)
        registry.register(DialplanFunction(name: "LEN") { _, arguments in String(arguments.count) })
        registry.register(global)
        registry.register(sipHeader)
        let all = StringFunctions.all + LogicFunctions.all + TimeFunctions.all + DatabaseFunctions.all + GroupFunctions.all
        for function in all { registry.register(function) }
        return registry
    }

    /// `CALLERID(num|name|all)`; `all` reads as `"name" <num>` and is written the same way.
    /// `SIP_HEADER(name[,n])`: a header of the INVITE that created the channel (the n-th when it
    /// repeats), empty when absent; read-only as in chan_sip.
    static let sipHeader = DialplanFunction(name: "SIP_HEADER") { execution, arguments in
        let parts = ArgumentSplitter.split(arguments)
        let name = parts.first?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !name.isEmpty else { throw DialplanError("SIP_HEADER: a header name is required") }
        var occurrence = 1
        if parts.count > 1, !parts[1].trimmingCharacters(in: .whitespaces).isEmpty {
            guard let n = Int(parts[1].trimmingCharacters(in: .whitespaces)), n >= 1 else {
                throw DialplanError("SIP_HEADER: '\(parts[1])' is not an occurrence number (1, 2, ...)")
            }
            occurrence = n
        }
        return await execution.channel.requestHeader(name, occurrence: occurrence) ?? ""
    }

    static let callerID = DialplanFunction(
        name: "CALLERID",
        read: { execution, arguments in
            let (number, name) = await execution.callerID()
            switch arguments.trimmingCharacters(in: .whitespaces).lowercased() {
            case "num", "number": return number
            case "name": return name
            case "all": return name.isEmpty ? number : "\"\(name)\" <\(number)>"
            default: throw DialplanError("CALLERID: unknown data type '\(arguments)' (supported: num, name, all)")
            }
        },
        write: { execution, arguments, value in
            let (number, name) = await execution.callerID()
            switch arguments.trimmingCharacters(in: .whitespaces).lowercased() {
            case "num", "number": await execution.setCallerID(number: value, name: name)
            case "name": await execution.setCallerID(number: number, name: value)
            case "all":
                let parsed = parseCallerID(value)
                await execution.setCallerID(number: parsed.number, name: parsed.name)
            default: throw DialplanError("CALLERID: unknown data type '\(arguments)' (supported: num, name, all)")
            }
        }
    )

    /// `"Name" <number>`, `Name <number>` or a bare number (Asterisk `ast_callerid_parse`).
    static func parseCallerID(_ text: String) -> (name: String, number: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else {
            let isNumber = !text.isEmpty && text.allSatisfy { $0.isNumber || "+*#".contains($0) }
            return isNumber ? ("", text) : (text.trimmingCharacters(in: CharacterSet(charactersIn: "\"")), "")
        }
        let number = String(text[text.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
        let name = text[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return (name, number)
    }

    /// `GLOBAL(name)`: the server-wide variable, shared by every channel.
    static let global = DialplanFunction(
        name: "GLOBAL",
        read: { execution, arguments in execution.executor.globals[arguments] ?? "" },
        write: { execution, arguments, value in
            execution.executor.globals[arguments] = value
            execution.executor.events?.publish(.globalVarSet(variable: arguments, value: value))
        }
    )
}

/// `[globals]` at run time: read by every channel, written by `Set(GLOBAL(x)=...)`.
///
/// `@unchecked Sendable` is sound: the only stored state is `values`, and every access to it
/// goes through `lock`.
public final class GlobalVariables: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> String? {
        get { lock.withLock { values[name] } }
        set { lock.withLock { values[name] = newValue } }
    }

    /// A copy for listings (`dialplan show globals`).
    public var snapshot: [String: String] { lock.withLock { values } }
}
