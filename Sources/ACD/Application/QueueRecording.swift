import Dialplan
import PBXCore

/// Recording of answered queue calls (queues.conf `monitor-format`, app_queue's
/// `setup_mixmonitor`): when a member answers, the caller's channel runs the `MixMonitor`
/// application, so the file lands where MixMonitor puts it (`recordings/YYYY/MM/DD/`), is
/// named in `MIXMONITOR_FILENAME` and the CDR's `recordingfile`, and covers both parties.
///
/// As in app_queue: the file is the caller's Uniqueid (or `MONITOR_FILENAME` when the
/// dialplan set it) with the queue's format as extension; `MONITOR_OPTIONS` are passed as
/// MixMonitor's options and `MONITOR_EXEC` as its command. app_queue adds MixMonitor's `b`
/// (bridged audio only); pbxd starts the recording just before the bridge instead, so it
/// holds the conversation from the bridge on (and, with Queue's `c` option, what follows).
enum QueueRecording {
    /// MixMonitor's argument for this caller: `file.format[,options[,command]]`.
    static func mixMonitorArgument(_ execution: ChannelExecution, format: String) -> String {
        let named = execution.variable("MONITOR_FILENAME") ?? ""
        var argument = (named.isEmpty ? execution.channel.uniqueID : named) + "." + format
        let options = execution.variable("MONITOR_OPTIONS") ?? ""
        let command = execution.variable("MONITOR_EXEC") ?? ""
        if !options.isEmpty || !command.isEmpty { argument += "," + options }
        if !command.isEmpty { argument += "," + command }
        return argument
    }

    /// Starts the recording on the caller's channel; a missing MixMonitor or a failure is
    /// logged and the call goes on unrecorded, as in Asterisk.
    static func start(_ execution: ChannelExecution, format: String) async {
        guard let mixMonitor = execution.executor.applications["MixMonitor"] else {
            execution.logger.warning("Queue: unable to start MixMonitor: the MixMonitor application is not loaded")
            return
        }
        let argument = mixMonitorArgument(execution, format: format)
        execution.logger.debug("Queue: recording the call with MixMonitor(\(argument))")
        do {
            _ = try await mixMonitor.body(execution, argument)
        } catch {
            execution.logger.warning("Queue: MixMonitor failed: \(error)")
        }
    }
}
