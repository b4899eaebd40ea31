import Dialplan
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `pbxd-bench dialplan [--extensions N] [--lookups N]`: how fast `Dialplan.findPriority` (the
/// lookup every dialplan step and every new call makes) answers in one context of N extensions
/// (default 10,000): 90 % exact numbers (`2000000`…), 10 % patterns (`_3XX000`…`_3XX999`, each
/// with its own last three digits). Three kinds of lookup, each timed separately on one thread:
/// an exact number, a number only a pattern matches, and a number nothing matches.
func runDialplanBench(arguments: [String]) {
    var extensionCount = 10_000
    var lookups = 200_000
    var i = 0
    while i < arguments.count {
        let value = i + 1 < arguments.count ? Int(arguments[i + 1]) : nil
        switch (arguments[i], value) {
        case ("--extensions", let n?): extensionCount = n
        case ("--lookups", let n?): lookups = n
        default:
            print("usage: pbxd-bench dialplan [--extensions N] [--lookups N]")
            return
        }
        i += 2
    }
    let patterns = extensionCount / 10
    let exact = extensionCount - patterns
    var text = "[bench]\n"
    for n in 0..<exact { text += "exten => \(2_000_000 + n),1,NoOp()\n" }
    for n in 0..<patterns { text += "exten => _3XX\(threeDigits(n % 1000))\(n >= 1000 ? String(n / 1000) : ""),1,NoOp()\n" }
    let dialplan: Dialplan
    do {
        dialplan = try Dialplan.parse(text, fileName: "bench.conf").dialplan
    } catch {
        print("dialplan failed to load: \(error)")
        return
    }
    var generator = SplitMix64(seed: 42)
    let exactNumbers = (0..<1024).map { _ in String(2_000_000 + Int(generator.next() % UInt64(exact))) }
    let patternNumbers = (0..<1024).map { _ in
        "3" + threeDigits(Int(generator.next() % 100)).suffix(2)
            + threeDigits(Int(generator.next() % UInt64(min(patterns, 1000))))
    }
    let missNumbers = (0..<1024).map { _ in String(4_000_000 + Int(generator.next() % 1_000_000)) }
    print("command: \(CommandLine.arguments.joined(separator: " "))")
    print("dialplan: 1 context, \(exact) exact extensions + \(patterns) patterns, \(lookups) lookups per kind, 1 thread")
    for (kind, numbers, mustMatch) in [
        ("exact", exactNumbers, true), ("pattern", patternNumbers, true), ("no match", missNumbers, false),
    ] {
        var found = 0
        for number in numbers.prefix(100)
        where (dialplan.findPriority(context: "bench", exten: number, priority: 1) != nil) != mustMatch {
            print("\(kind): \(number) \(mustMatch ? "did not match" : "matched"); the benchmark is wrong")
            return
        }
        let start = benchNanoseconds()
        for n in 0..<lookups where dialplan.findPriority(context: "bench", exten: numbers[n & 1023], priority: 1) != nil {
            found += 1
        }
        let elapsed = benchNanoseconds() - start
        let perLookup = Double(elapsed) / Double(lookups)
        print(
            "\(kind): \(Int(1e9 / perLookup)) lookups/s, \(String(format: "%.1f", perLookup / 1000)) µs/lookup (\(found) found)")
    }
}

private func threeDigits(_ n: Int) -> String {
    String(String(n + 1000).dropFirst())
}

/// A small deterministic generator, so every run looks up the same numbers.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func benchNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
