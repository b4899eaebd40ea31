import Foundation
import PBXCore

/// AMI's `MixMonitor` and `StopMixMonitor` actions (app_mixmonitor's manager side), registered
/// into PBXCore's `ManagerActionRegistry`. Channels are found by name through `lookup`, which
/// pbxd provides from its registry of live channels.
///
/// Unlike the application, the action cannot set `MIXMONITOR_FILENAME` (channel variables live
/// with the channel's dialplan run); the reply's `MixMonitorID` is the mixed file's path, and
/// the channel's CDR `recordingfile` is set to it as the application does.
public enum MixMonitorManagerActions {
    public typealias ChannelLookup = @Sendable (_ name: String) async -> (any CallRecording)?

    public static func register(
        into registry: ManagerActionRegistry, recordingsDirectory: String, lookup: @escaping ChannelLookup,
        cdrVariables: CDRVariableStore? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        registry.register(mixMonitor(recordingsDirectory: recordingsDirectory, lookup: lookup, cdrVariables: cdrVariables, clock: clock))
        registry.register(stopMixMonitor(lookup: lookup))
    }

    /// `Action: MixMonitor` with `Channel`, `File` (relative: under `recordings/YYYY/MM/DD/`) and
    /// optional `Options` (`r(file)`, `t(file)` as in the application). Class `system`, as in
    /// Asterisk.
    static func mixMonitor(
        recordingsDirectory: String, lookup: @escaping ChannelLookup, cdrVariables: CDRVariableStore?,
        clock: @escaping @Sendable () -> Date
    ) -> ManagerAction {
        ManagerAction(name: "MixMonitor", authority: .system) { request in
            guard let name = request["Channel"], !name.isEmpty else { return .error("No channel specified") }
            guard let file = request["File"], !file.isEmpty else { return .error("No file specified") }
            guard let channel = await lookup(name) else { return .error("No such channel") }
            let options = MixMonitorOptions(request["Options"] ?? "")
            let folder = MixMonitorApplications.datedFolder(recordingsDirectory, date: clock(), timeZone: .current)
            let monitor = MixMonitorRequest(
                path: MixMonitorApplications.path(file, folder: folder),
                receivePath: options.receiveFile.map { MixMonitorApplications.path($0, folder: folder) },
                transmitPath: options.transmitFile.map { MixMonitorApplications.path($0, folder: folder) })
            do {
                for path in [monitor.path, monitor.receivePath, monitor.transmitPath].compactMap({ $0 }) {
                    try FileManager.default.createDirectory(
                        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                }
                try await channel.startMixMonitor(monitor)
            } catch {
                return .error("Could not start monitoring channel")
            }
            if let uniqueID = (channel as? any CallChannel)?.uniqueID {
                cdrVariables?.set("recordingfile", monitor.path, channel: uniqueID)
            }
            return .success(message: nil, fields: [.init("MixMonitorID", monitor.path)])
        }
    }

    /// `Action: StopMixMonitor` with `Channel`.
    static func stopMixMonitor(lookup: @escaping ChannelLookup) -> ManagerAction {
        ManagerAction(name: "StopMixMonitor", authority: [.system, .call]) { request in
            guard let name = request["Channel"], !name.isEmpty else { return .error("No channel specified") }
            guard let channel = await lookup(name) else { return .error("No such channel") }
            guard await channel.stopMixMonitor() else { return .error("Could not stop monitoring channel") }
            return .success(message: "Stopped monitoring channel")
        }
    }
}
