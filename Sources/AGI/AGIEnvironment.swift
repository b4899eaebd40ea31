import Dialplan
import Foundation
import PBXCore

/// The block pbxd sends when a session starts (res_agi's `setup_env`): `key: value` lines in
/// Asterisk's order, ended by an empty line. FastAGI sessions start with `agi_network: yes`
/// and, when the URL names a script, `agi_network_script`.
enum AGIEnvironment {
    /// What describes the session beyond the channel.
    struct Request {
        /// `agi_request`: the URL or script as written in the dialplan (without the arguments).
        var request: String
        /// FastAGI's `agi_network_script` (nil for a local script; empty: no such line).
        var networkScript: String?
        /// `agi_arg_1`…
        var arguments: [String]
        /// `agi_version`.
        var version: String
    }

    static func block(_ request: Request, execution: ChannelExecution) async -> String {
        let channel = execution.channel
        let snapshot = await channel.snapshot
        let callerID = await execution.callerID()
        var lines: [(String, String)] = []
        if let script = request.networkScript {
            lines.append(("agi_network", "yes"))
            if !script.isEmpty { lines.append(("agi_network_script", script)) }
        }
        lines += [
            ("agi_request", request.request),
            ("agi_channel", channel.name),
            ("agi_language", execution.language),
            ("agi_type", technology(of: channel.name)),
            ("agi_uniqueid", channel.uniqueID),
            ("agi_version", request.version),
            ("agi_callerid", unknownIfEmpty(callerID.number)),
            ("agi_calleridname", unknownIfEmpty(callerID.name)),
            ("agi_callingpres", "0"),
            ("agi_callingani2", "0"),
            ("agi_callington", "0"),
            ("agi_callingtns", "0"),
            ("agi_dnid", unknownIfEmpty(await headerUser(channel, "To"))),
            ("agi_rdnis", unknownIfEmpty(await headerUser(channel, "Diversion"))),
            ("agi_context", execution.location.context),
            ("agi_extension", execution.location.exten),
            ("agi_priority", String(execution.location.priority)),
            ("agi_enhanced", "0.0"),
            ("agi_accountcode", snapshot.accountCode),
            ("agi_threadid", String(describing: pthread_self())),
        ]
        for (index, argument) in request.arguments.enumerated() { lines.append(("agi_arg_\(index + 1)", argument)) }
        return lines.map { "\($0.0): \($0.1)\n" }.joined() + "\n"
    }

    /// `SIP/1001-0000000c` → `SIP`.
    static func technology(of name: String) -> String {
        name.split(separator: "/", maxSplits: 1).first.map(String.init) ?? name
    }

    static func unknownIfEmpty(_ value: String?) -> String {
        guard let value, !value.isEmpty else { return "unknown" }
        return value
    }

    /// The user part of the URI in a header of the INVITE: the number dialed (`To`, chan_sip's
    /// DNID for a call to a user) or the redirecting number (`Diversion`, its RDNIS).
    static func headerUser(_ channel: any CallChannel, _ header: String) async -> String? {
        guard let value = await channel.requestHeader(header, occurrence: 1),
            let start = value.range(of: "sip:", options: .caseInsensitive) ?? value.range(of: "tel:", options: .caseInsensitive)
        else { return nil }
        let rest = value[start.upperBound...]
        let end = rest.firstIndex { "@;>".contains($0) } ?? rest.endIndex
        return String(rest[..<end])
    }
}
