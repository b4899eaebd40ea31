import Foundation
import NIOCore
import PBXCore
import SIPStack

/// `sip show peers`, laid out as chan_sip prints it (`_sip_show_peers`): where each peer is
/// (its registration, or its fixed host), whether it is dynamic, its NAT settings, ACL, port
/// and qualify status, then the monitored/unmonitored totals.
enum SIPPeerCommands {
    static func register(
        into registry: CLICommandRegistry, peers: [SIPPeer], registrar: RegistrarService,
        qualify: QualifyService, eventLoop: any EventLoop
    ) {
        registry.register(
            CLICommand("sip show peers", summary: "List defined SIP peers") { _ in
                // Registrations and qualify state live on the SIP event loop.
                let rows = try? await eventLoop.submit { () -> [PeerRow] in
                    let bindings = Dictionary(grouping: registrar.allBindings, by: \.aor)
                    return peers.map { peer in
                        PeerRow(
                            peer: peer, binding: bindings[peer.name.lowercased()]?.last,
                            reachability: qualify.reachability(of: peer.name))
                    }
                }.get()
                guard let rows else { return .failure("The SIP channel driver is not running") }
                return CLIResult(lines: table(rows))
            })
    }

    struct PeerRow {
        var peer: SIPPeer
        var binding: RegistrarBinding?
        var reachability: PeerReachability
    }

    static func table(_ rows: [PeerRow]) -> [String] {
        var lines = [line(["Name/username", "Host", "Dyn", "Forcerport", "Comedia", "ACL", "Port", "Status", "Description"])]
        var monitored = (online: 0, offline: 0)
        var unmonitored = (online: 0, offline: 0)
        for row in rows.sorted(by: { $0.peer.name < $1.peer.name }) {
            let peer = row.peer
            var name = peer.name
            var host = "(Unspecified)"
            var port = 0
            if let binding = row.binding {
                name += "/" + (binding.contact.user ?? peer.name)
                host = binding.source.host
                port = binding.source.port
            } else if case .fixed(let address) = peer.host {
                host = address
                port = peer.port ?? 5060
            }
            let status: String
            if case .off = peer.qualify {
                status = "Unmonitored"
                if port != 0 { unmonitored.online += 1 } else { unmonitored.offline += 1 }
            } else {
                status = row.reachability.description
                switch row.reachability {
                case .reachable, .lagged: monitored.online += 1
                default: monitored.offline += 1
                }
            }
            lines.append(
                line([
                    name, host, peer.host == .dynamic ? " D " : "   ",
                    nat(peer.nat.forceRport, auto: peer.nat.autoForceRport), nat(peer.nat.comedia, auto: peer.nat.autoComedia),
                    peer.acl.isEmpty ? "   " : " A ", String(port), status, peer.description ?? "",
                ]))
        }
        lines.append(
            "\(rows.count) sip peers [Monitored: \(monitored.online) online, \(monitored.offline) offline "
                + "Unmonitored: \(unmonitored.online) online, \(unmonitored.offline) offline]")
        return lines
    }

    /// chan_sip's "Yes", "No" or "Auto (No)" (auto, not yet seen behind NAT).
    static func nat(_ on: Bool, auto: Bool) -> String {
        on ? "Yes" : auto ? "Auto (No)" : "No"
    }

    /// `%-25.25s %-39.39s %-3.3s %-10.10s %-10.10s %-3.3s %-8s %-11s %-32.32s`.
    static func line(_ fields: [String]) -> String {
        let widths: [(width: Int, truncate: Bool)] = [
            (25, true), (39, true), (3, true), (10, true), (10, true), (3, true),
            (8, false), (11, false), (32, true),
        ]
        return zip(fields, widths).map { field, format in
            let text = format.truncate ? String(field.prefix(format.width)) : field
            return text.count >= format.width ? text : text.padding(toLength: format.width, withPad: " ", startingAt: 0)
        }.joined(separator: " ")
    }
}
