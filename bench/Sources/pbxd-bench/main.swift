// Benchmark dispatcher: `pbxd-bench <parser|relay> [options]`.
switch CommandLine.arguments.dropFirst().first {
case "relay": runRelayBench(arguments: Array(CommandLine.arguments.dropFirst(2)))
default: print("usage: pbxd-bench <parser|relay> [options]")
}
