/// pbxd-bench: one subcommand per benchmark; each prints its figures and the command line.
switch CommandLine.arguments.dropFirst().first {
case "parser": runParserBench(arguments: Array(CommandLine.arguments.dropFirst(2)))
case "relay": runRelayBench(arguments: Array(CommandLine.arguments.dropFirst(2)))
case "dialplan": runDialplanBench(arguments: Array(CommandLine.arguments.dropFirst(2)))
case "acd": await runACDBench(arguments: Array(CommandLine.arguments.dropFirst(2)))
case "mixmonitor": runMixMonitorBench(arguments: Array(CommandLine.arguments.dropFirst(2)))
case "webhooks": runWebhookBench(arguments: Array(CommandLine.arguments.dropFirst(2)))
default: print("usage: pbxd-bench <parser|relay|dialplan|acd|mixmonitor|webhooks> [options]")
}
