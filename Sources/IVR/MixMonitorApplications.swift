import Dialplan
import Foundation
import PBXCore
import RTPMedia

/// `MixMonitor` and `StopMixMonitor` (app_mixmonitor): records the call the channel is in, both
/// directions mixed into one WAV, while the dialplan goes on.
public enum MixMonitorApplications {
    /// - Parameter cdrVariables: the CDR engine's per-channel store, where MixMonitor puts
    ///   `recordingfile` (nil: CDRs are not kept, or a test).
    public static func all(recordingsDirectory: String, cdrVariables: CDRVariableStore? = nil) -> [Application] {
        [mixMonitor(recordingsDirectory: recordingsDirectory, cdrVariables: cdrVariables), stopMixMonitor]
    }

    public static func register(
        into registry: inout ApplicationRegistry, recordingsDirectory: String, cdrVariables: CDRVariableStore? = nil
    ) {
        for application in all(recordingsDirectory: recordingsDirectory, cdrVariables: cdrVariables) { registry.register(application) }
    }

    /// `MixMonitor(filename.wav[,options])`.
    ///
    /// - A relative name goes under `<recordings>/YYYY/MM/DD/` (the day the recording starts, in
    ///   the dialplan's time zone), directories created; an absolute one is used as is. WAV (8 kHz
    ///   16-bit mono), or Ogg/Opus (16 kbit/s) for a name ending in `.ogg` or `.opus`; any other
    ///   name gets `.wav` appended.
    /// - Options: `r(file)` also records what this channel's phone sends, `t(file)` what it
    ///   hears, each to its own file (relative names as above). `a` (append), `b` (only while
    ///   bridged), volume (`v`, `V`, `W`), `i(var)` and the post-recording command are not
    ///   supported: logged and ignored. pbxd records what the phones send through its relay;
    ///   prompts pbxd itself plays are not in the recording.
    /// - Sets `MIXMONITOR_FILENAME` to the mixed file's absolute path, and the channel's CDR
    ///   `recordingfile` to the same path (what FreePBX's dialplan does with
    ///   `Set(CDR(recordingfile)=…)`; a later `Set(CDR(recordingfile)=…)` still wins).
    /// - A channel that cannot be recorded, or a file that cannot be created, is logged and the
    ///   dialplan goes on, as in Asterisk.
    public static func mixMonitor(recordingsDirectory: String, cdrVariables: CDRVariableStore? = nil) -> Application {
        Application(name: "MixMonitor", isInstant: true) { execution, data in
            let arguments = ArgumentSplitter.split(data)
            let name = arguments[0].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else {
                execution.logger.warning("MixMonitor requires an argument (filename)")
                return .proceed
            }
            let options = MixMonitorOptions(arguments.count > 1 ? arguments[1] : "")
            for ignored in options.unsupported {
                execution.logger.notice("MixMonitor: option '\(ignored)' is not supported; ignored")
            }
            if arguments.count > 2, !arguments[2].isEmpty {
                execution.logger.notice("MixMonitor: the post-recording command is not supported; ignored")
            }
            guard let channel = execution.channel as? CallRecording else {
                execution.logger.warning("MixMonitor: channel \(execution.channel.name) cannot be recorded")
                return .proceed
            }
            let folder = datedFolder(recordingsDirectory, date: execution.executor.clock(), timeZone: execution.executor.timeZone)
            let request = MixMonitorRequest(
                path: path(name, folder: folder), receivePath: options.receiveFile.map { path($0, folder: folder) },
                transmitPath: options.transmitFile.map { path($0, folder: folder) })
            do {
                for file in [request.path, request.receivePath, request.transmitPath].compactMap({ $0 }) {
                    try FileManager.default.createDirectory(
                        atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                }
                try await channel.startMixMonitor(request)
            } catch {
                execution.logger.warning("MixMonitor: \(error)")
                return .proceed
            }
            execution.setVariable("MIXMONITOR_FILENAME", request.path)
            cdrVariables?.set("recordingfile", request.path, channel: execution.channel.uniqueID)
            return .proceed
        }
    }

    /// `StopMixMonitor()`: stops the channel's recording and closes its files.
    public static let stopMixMonitor = Application(name: "StopMixMonitor", isInstant: true) { execution, _ in
        guard let channel = execution.channel as? CallRecording, await channel.stopMixMonitor() else {
            execution.logger.notice("StopMixMonitor: no MixMonitor on \(execution.channel.name)")
            return .proceed
        }
        return .proceed
    }

    /// `<recordings>/YYYY/MM/DD`.
    static func datedFolder(_ recordings: String, date: Date, timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        let day = String(format: "%04d/%02d/%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        return (recordings as NSString).appendingPathComponent(day)
    }

    /// An absolute path ending in `.wav`, `.ogg` or `.opus` (Ogg/Opus): a name that ends
    /// otherwise (no extension, or a dot that is part of the name, as in `${UNIQUEID}`) gets
    /// `.wav` appended.
    static func path(_ name: String, folder: String) -> String {
        var file = name.hasPrefix("/") ? name : (folder as NSString).appendingPathComponent(name)
        let suffix = (file as NSString).pathExtension.lowercased()
        if suffix != "wav" && !RecordingFormat.opusExtensions.contains(suffix) { file += ".wav" }
        return file
    }
}

/// MixMonitor's option letters (`r(file)t(file)ab...`).
struct MixMonitorOptions: Equatable {
    var receiveFile: String?
    var transmitFile: String?
    /// Options pbxd does not implement, as written.
    var unsupported: [String] = []

    init(_ text: String) {
        var index = text.startIndex
        while index < text.endIndex {
            let letter = text[index]
            index = text.index(after: index)
            var argument: String?
            if index < text.endIndex, text[index] == "(", let close = text[index...].firstIndex(of: ")") {
                argument = String(text[text.index(after: index)..<close])
                index = text.index(after: close)
            }
            switch letter {
            case "r": receiveFile = argument
            case "t": transmitFile = argument
            default: unsupported.append(String(letter) + (argument.map { "(\($0))" } ?? ""))
            }
        }
    }
}
