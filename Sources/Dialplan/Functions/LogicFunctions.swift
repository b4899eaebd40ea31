import Foundation

/// `IF`, `ISNULL`, `EXISTS`, `SET`, `RAND`, `LANGUAGE` (Asterisk `func_logic`, `func_rand`).
enum LogicFunctions {
    static let all: [DialplanFunction] = [ifFunction, isNull, exists, set, rand, language, SubroutineApplications.local]

    /// `IF(expr?[true][:false])`: each branch trimmed, surrounding quotes removed.
    static let ifFunction = DialplanFunction(name: "IF") { _, arguments in
        let (condition, branches) = ArgumentSplitter.splitOnce(arguments, at: "?")
        guard let branches, !condition.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DialplanError("IF: syntax is IF(<expr>?[<true>][:<false>])")
        }
        let (whenTrue, whenFalse) = ArgumentSplitter.splitOnce(branches, at: ":")
        let chosen = DialplanExpression.isTrue(condition) ? whenTrue : (whenFalse ?? "")
        return stripQuotes(chosen.trimmingCharacters(in: .whitespaces))
    }

    static func stripQuotes(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        return String(text.dropFirst().dropLast())
    }

    static let isNull = DialplanFunction(name: "ISNULL") { _, arguments in arguments.isEmpty ? "1" : "0" }
    static let exists = DialplanFunction(name: "EXISTS") { _, arguments in arguments.isEmpty ? "0" : "1" }

    /// `${SET(name=value)}`: assigns like `Set()` and reads as the value.
    static let set = DialplanFunction(name: "SET") { execution, arguments in
        let (name, value) = ArgumentSplitter.splitOnce(arguments, at: "=")
        guard let value, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DialplanError("SET: syntax is SET(<varname>=[<value>])")
        }
        try await execution.assign(name, value: value)
        return value
    }

    /// `RAND([min][,max])`: a random integer in `min...max` (defaults 0 and 2147483647; swapped
    /// when given the wrong way round).
    static let rand = DialplanFunction(name: "RAND") { _, arguments in
        let fields = ArgumentSplitter.split(arguments).map { $0.trimmingCharacters(in: .whitespaces) }
        func bound(_ index: Int, default value: Int) throws -> Int {
            guard index < fields.count, !fields[index].isEmpty else { return value }
            guard let number = Int32(fields[index]) else { throw DialplanError("RAND: bad value '\(fields[index])'") }
            return Int(number)
        }
        var low = try bound(0, default: 0), high = try bound(1, default: Int(Int32.max))
        if high < low { swap(&low, &high) }
        return String(Int.random(in: low...high))
    }

    /// `LANGUAGE()`: the channel's prompt language (`ChannelExecution.language`).
    static let language = DialplanFunction(
        name: "LANGUAGE",
        read: { execution, _ in execution.language },
        write: { execution, _, value in execution.language = value.trimmingCharacters(in: .whitespaces) }
    )
}
