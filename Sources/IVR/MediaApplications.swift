import Dialplan
import Foundation
import PBXCore

/// Where the media applications keep and find their files (pbxd fills it from its config).
public struct MediaApplicationSettings: Sendable {
    /// Record's relative file names are put under this directory (pbxd: `<datadir>/recordings`).
    public var recordingsDirectory: String
    /// musiconhold.conf's classes.
    public var musicOnHold: MusicOnHoldConfig

    public init(recordingsDirectory: String, musicOnHold: MusicOnHoldConfig = MusicOnHoldConfig()) {
        self.recordingsDirectory = recordingsDirectory
        self.musicOnHold = musicOnHold
    }
}

/// Asterisk's `app_record`, `app_echo`, `app_milliwatt`, `res_musiconhold`'s MusicOnHold and
/// `app_senddtmf`, with Asterisk 18's arguments and variables.
public enum MediaApplications {
    public static func all(settings: MediaApplicationSettings) -> [Application] {
        [record(settings: settings), echo, milliwatt, musicOnHold(settings: settings), sendDTMF]
    }

    /// `Record(filename.format[,silence[,maxduration[,options]]])`.
    ///
    /// - The only format is `wav` (8 kHz 16-bit mono PCM). Another format, or none, sets
    ///   `RECORD_STATUS=ERROR` and hangs up, as Asterisk does when it cannot create the file.
    /// - `%d` in the name becomes the first number (from 0) for which no file exists.
    /// - A relative name goes under `recordingsDirectory` (`<datadir>/recordings/`; Asterisk would
    ///   use its sounds directory), with any subdirectories created; an absolute one is used as is.
    /// - `silence`: seconds of continuous silence that end it (mean |sample| of a 20 ms frame
    ///   below 256, Asterisk's default threshold); 0 or absent: none. `maxduration`: seconds;
    ///   0 or absent: no limit. Ended by silence, the file keeps one second of it (the rest is
    ///   trimmed, as Asterisk does). Real time with no packets (a phone using VAD/DTX) is
    ///   recorded as silence after 200 ms, so it counts toward the silence limit too.
    /// - Options: `s` skip when not answered (`RECORD_STATUS=SKIP`); `n` don't answer; `q` no beep
    ///   (otherwise `beep` is played first); `y` any digit ends it; `t` `*` instead of `#`;
    ///   `x` no terminating digit; `o` `0` ends it too, with `RECORD_STATUS=OPERATOR`; `k` keep
    ///   the file on hangup (otherwise it is deleted: "all data will be lost", as in Asterisk).
    ///   `a` (append) is not supported: logged, and the file is overwritten.
    /// - Sets `RECORDED_FILE` (the path without extension, ready for `Playback`) and
    ///   `RECORD_STATUS`: SILENCE, SKIP, TIMEOUT, HANGUP, DTMF, OPERATOR or ERROR.
    public static func record(settings: MediaApplicationSettings) -> Application {
        Application(name: "Record") { execution, data in
            let arguments = ArgumentSplitter.split(data)
            let spec = arguments[0].trimmingCharacters(in: .whitespaces)
            let options = arguments.count > 3 ? arguments[3] : ""
            let location = "\(execution.location)"
            let dot = spec.lastIndex(of: ".")
            guard let dot, dot != spec.startIndex, !spec[spec.index(after: dot)...].contains("/") else {
                execution.logger.warning(
                    "Record: no extension specified to filename '\(spec)'", metadata: ["location": "\(location)"])
                execution.setVariable("RECORD_STATUS", "ERROR")
                return .hangup(nil)
            }
            let format = String(spec[spec.index(after: dot)...])
            guard format == "wav" else {
                execution.logger.warning(
                    "Record: format '\(format)' is not supported (only wav)", metadata: ["location": "\(location)"])
                execution.setVariable("RECORD_STATUS", "ERROR")
                return .hangup(nil)
            }
            let silence = seconds(arguments.count > 1 ? arguments[1] : "")
            let maxDuration = seconds(arguments.count > 2 ? arguments[2] : "")
            if options.contains("a") {
                execution.logger.notice("Record: option 'a' (append) is not supported; the file is overwritten")
            }
            let channel = execution.channel
            if await channel.state != .up {
                if options.contains("s") {
                    execution.setVariable("RECORD_STATUS", "SKIP")
                    execution.returnedWithoutWaiting()
                    return .proceed
                }
                if !options.contains("n") { try await channel.answer() }
            }
            var base = String(spec[..<dot])
            if !base.hasPrefix("/") { base = (settings.recordingsDirectory as NSString).appendingPathComponent(base) }
            base = uniqueName(base, format: format)
            execution.setVariable("RECORDED_FILE", base)
            let path = base + "." + format
            do {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            } catch {
                execution.logger.warning("Record: cannot create the directory for \(path): \(error)")
                execution.setVariable("RECORD_STATUS", "ERROR")
                return .hangup(nil)
            }
            if !options.contains("q") {
                switch await channel.play(["beep"], language: execution.language, interruptDigits: "") {
                case .hungUp:
                    execution.setVariable("RECORD_STATUS", "HANGUP")
                    return .hangup(nil)
                case .missing:
                    execution.logger.warning("Record: no 'beep' sound; recording without it")
                case .finished, .interrupted:
                    break
                }
            }
            var terminators = options.contains("t") ? "*" : "#"
            if options.contains("y") { terminators = PlaybackApplications.anyDigit }
            if options.contains("x") { terminators = "" }
            if options.contains("o"), !options.contains("x"), !terminators.contains("0") { terminators += "0" }
            let outcome = await channel.record(
                RecordingRequest(
                    path: path, silence: silence.map { .seconds($0) }, maxDuration: maxDuration.map { .seconds($0) },
                    terminators: terminators))
            switch outcome {
            case .silence: execution.setVariable("RECORD_STATUS", "SILENCE")
            case .timeout: execution.setVariable("RECORD_STATUS", "TIMEOUT")
            case .dtmf(let digit):
                execution.setVariable("RECORD_STATUS", digit == "0" && options.contains("o") ? "OPERATOR" : "DTMF")
            case .error(let reason):
                execution.logger.warning("Record: \(reason)", metadata: ["location": "\(location)"])
                execution.setVariable("RECORD_STATUS", "ERROR")
                return .hangup(nil)
            case .hungUp:
                execution.setVariable("RECORD_STATUS", "HANGUP")
                if !options.contains("k") { try? FileManager.default.removeItem(atPath: path) }
                return .hangup(nil)
            }
            return .proceed
        }
    }

    /// `Echo()`: answers if needed, then sends the caller's audio back until `#` (the dialplan
    /// goes on) or hangup. (Asterisk's Echo does not answer; here media needs an answered call.)
    public static let echo = Application(name: "Echo") { execution, _ in
        let channel = execution.channel
        if await channel.state != .up { try await channel.answer() }
        return await channel.echo(until: "#") == nil ? .hangup(nil) : .proceed
    }

    /// `Milliwatt([options])`: answers, then plays a 1004 Hz tone at 0 dBm0 (peak 23255, as
    /// Asterisk) until hangup; option `o`: 1000 Hz (Asterisk's old behaviour).
    public static let milliwatt = Application(name: "Milliwatt") { execution, data in
        let channel = execution.channel
        if await channel.state != .up { try await channel.answer() }
        let frequency = data.contains("o") ? 1000.0 : 1004.0
        let result = await channel.playContinuous(.tone(frequency: frequency, amplitude: 23255), duration: nil)
        if case .failed(let reason) = result {
            execution.logger.warning("Milliwatt failed on \(channel.name): \(reason)")
        }
        return .hangup(nil)
    }

    /// `MusicOnHold([class[,duration]])`: answers if needed, plays the class's files (class
    /// `default` when empty) in a loop for `duration` seconds, or until hangup. An unknown class
    /// is logged and the dialplan goes on, as Asterisk does.
    public static func musicOnHold(settings: MediaApplicationSettings) -> Application {
        Application(name: "MusicOnHold") { execution, data in
            let arguments = ArgumentSplitter.split(data)
            let name =
                arguments[0].trimmingCharacters(in: .whitespaces).isEmpty
                ? "default" : arguments[0].trimmingCharacters(in: .whitespaces)
            let duration = seconds(arguments.count > 1 ? arguments[1] : "")
            let channel = execution.channel
            guard let musicClass = settings.musicOnHold.classes[name] else {
                execution.logger.warning("Unable to start music on hold class '\(name)' on channel \(channel.name)")
                execution.returnedWithoutWaiting()
                return .proceed
            }
            if await channel.state != .up { try await channel.answer() }
            let result = await channel.playContinuous(
                .music(files: musicClass.files, random: musicClass.random), duration: duration.map { .seconds($0) })
            switch result {
            case .elapsed:
                return .proceed
            case .hungUp:
                return .hangup(nil)
            case .failed(let reason):
                execution.logger.warning("Unable to start music on hold class '\(name)' on channel \(channel.name): \(reason)")
                return .proceed
            }
        }
    }

    /// `SendDTMF(digits[,timeout_ms[,duration_ms]])`: sends the digits (0-9 * # A-D; `w` is a
    /// 500 ms pause, `W` one second) as RFC 4733 events, `duration_ms` each (default 100),
    /// `timeout_ms` apart (default 250). Does not answer.
    public static let sendDTMF = Application(name: "SendDTMF") { execution, data in
        let arguments = ArgumentSplitter.split(data)
        let digits = arguments[0].trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty else {
            execution.logger.warning("SendDTMF requires an argument", metadata: ["location": "\(execution.location)"])
            return .proceed
        }
        let gap = milliseconds(arguments.count > 1 ? arguments[1] : "") ?? 250
        let duration = milliseconds(arguments.count > 2 ? arguments[2] : "") ?? 100
        let ok = await execution.channel.sendDTMF(digits, duration: .milliseconds(duration), gap: .milliseconds(gap))
        return ok ? .proceed : .hangup(nil)
    }

    /// A positive whole number of seconds, or nil (absent, 0, negative or not a number).
    static func seconds(_ text: String) -> Int? {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value > 0 else { return nil }
        return value
    }

    static func milliseconds(_ text: String) -> Int? {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value > 0 else { return nil }
        return min(value, 60_000)
    }

    /// Replaces `%d` by the first number (0, 1, ...) that names no existing `.format` file.
    static func uniqueName(_ base: String, format: String) -> String {
        guard base.contains("%d") else { return base }
        var n = 0
        while true {
            let candidate = base.replacingOccurrences(of: "%d", with: String(n))
            if !FileManager.default.fileExists(atPath: candidate + "." + format) { return candidate }
            n += 1
        }
    }
}
