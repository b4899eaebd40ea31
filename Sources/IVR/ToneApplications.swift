import Dialplan
import Foundation
import PBXCore
import RTPMedia

/// `Playtones` and `StopPlaytones` (Asterisk's app_playtones).
enum ToneApplications {
    /// The channel variable naming the tone zone (country) for tone names; unset = `us`
    /// (Asterisk's `CHANNEL(tonezone)`, whose default comes from indications.conf).
    static let zoneVariable = "TONEZONE"

    /// `Playtones(arg)`: `arg` is a tone name of the channel's zone (`dial`, `ring`, `busy`,
    /// `congestion`) or a tone list (`440+480/2000,0/4000`). The tones start and the dialplan
    /// goes on at once; they play until `StopPlaytones`, the next prompt, or the hangup. No
    /// argument or a bad tone list: logged, and the call ends (Asterisk's app returns -1). A
    /// channel without media (not answered) is logged and the dialplan goes on.
    static let playtones = Application(name: "Playtones") { execution, data in
        let arg = data.trimmingCharacters(in: .whitespaces)
        guard !arg.isEmpty else {
            execution.logger.warning("Playtones requires an argument (the tones to play)", metadata: ["location": "\(execution.location)"])
            return .hangup(nil)
        }
        var zone = execution.variable(zoneVariable)?.lowercased() ?? ToneSet.defaultCountry
        if ToneSet.builtIn[zone] == nil {
            execution.logger.warning("Playtones: unknown tone zone '\(zone)', using '\(ToneSet.defaultCountry)'")
            zone = ToneSet.defaultCountry
        }
        let plan: TonePlan
        do {
            plan = try ToneSet.resolve(arg, country: zone)
        } catch {
            execution.logger.warning("Playtones: unable to start playtones on \(execution.channel.name): \(error)",
                                     metadata: ["location": "\(execution.location)"])
            return .hangup(nil)
        }
        if await !execution.channel.startTones(plan) {
            execution.logger.notice("Playtones: \(execution.channel.name) has no media to play '\(arg)' to")
        }
        return .proceed
    }

    /// `StopPlaytones()`: stops tones from `Playtones`; no-op when none are playing.
    static let stopPlaytones = Application(name: "StopPlaytones") { execution, _ in
        await execution.channel.stopTones()
        return .proceed
    }
}
