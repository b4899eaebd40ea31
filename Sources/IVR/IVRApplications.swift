import Dialplan
import PBXCore

/// The media applications of Asterisk's `app_playback`, `pbx_builtin` (Background, WaitExten,
/// SayDigits, SayNumber, SayAlpha), `app_read` and `app_playtones`, registered into the
/// dialplan's registries by pbxd. Record, Echo, Milliwatt, MusicOnHold and SendDTMF, which need
/// pbxd's settings, are in `MediaApplications` (`register(into:settings:)`).
public enum IVRApplications {
    public static let all: [Application] = [
        PlaybackApplications.playback, PlaybackApplications.background, WaitExtenApplication.waitExten,
        ReadApplication.read, SayApplications.sayDigits, SayApplications.sayNumber, SayApplications.sayAlpha,
        ToneApplications.playtones, ToneApplications.stopPlaytones,
    ]

    /// Functions the applications above read their settings from: `TIMEOUT(digit|response)`.
    public static let functions: [DialplanFunction] = [IVRTimeouts.function]

    /// Adds the IVR applications to `registry` (replacing any of the same name).
    public static func register(into registry: inout ApplicationRegistry) {
        for application in all { registry.register(application) }
    }

    /// Adds the applications above and the media applications (Record, Echo, Milliwatt,
    /// MusicOnHold, SendDTMF) configured with `settings`.
    public static func register(into registry: inout ApplicationRegistry, settings: MediaApplicationSettings) {
        register(into: &registry)
        for application in MediaApplications.all(settings: settings) { registry.register(application) }
    }

    /// Adds `TIMEOUT()` to `registry`.
    public static func register(into registry: inout FunctionRegistry) {
        for function in functions { registry.register(function) }
    }
}
