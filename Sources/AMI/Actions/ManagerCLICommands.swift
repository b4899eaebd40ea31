import PBXCore

/// The manager module's console commands (`pbxd -rx` and AMI Command): `manager show users`
/// and `manager show commands`, with Asterisk's layout. Secrets are never shown.
enum ManagerCLICommands {
    static func register(into commands: CLICommandRegistry, context: ManagerContext) {
        commands.register(CLICommand("manager show users", summary: "List configured manager users") { _ in
            let names = context.config.users.values.map(\.name).sorted()
            guard !names.isEmpty else { return CLIResult(lines: ["There are no manager users."]) }
            return CLIResult(lines: ["", "username", "--------"] + names
                + ["-------------------", "\(names.count) manager user\(names.count == 1 ? "" : "s") configured."])
        })
        commands.register(CLICommand("manager show commands", summary: "List manager interface commands") { _ in
            var rows = preLoginActions.map { ($0.name, $0.synopsis) } + SessionAction.allCases.map { ($0.name, $0.synopsis) }
            rows += context.actions.all.map { ($0.name, actionSynopses[$0.name] ?? $0.name) }
            let lines = rows.sorted { $0.0.lowercased() < $1.0.lowercased() }.map { pad($0.0, 30) + " " + $0.1 }
            return CLIResult(lines: [pad("Action", 30) + " Synopsis", pad("------", 30) + " --------"] + lines)
        })
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
