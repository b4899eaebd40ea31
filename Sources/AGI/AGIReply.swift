/// What pbxd answers to one AGI command: the exact bytes for the script and the outcome
/// AMI's `AGIExecEnd` reports (`ResultCode`/`Result`), as res_agi's `agi_handle_command` does.
struct AGIReply: Equatable {
    /// How the command ended, in res_agi's terms.
    enum Outcome: Equatable {
        /// `RESULT_SUCCESS`: AMI `ResultCode: 200`, `Result: Success`.
        case success
        /// `RESULT_FAILURE` (usually the channel hung up during the command): `-1`, `Failure`.
        case failure
        /// 510: no such command.
        case invalid
        /// 511: the command needs a live channel.
        case deadChannel
        /// 520: bad arguments.
        case usage
    }

    /// The line(s) sent, each ending in a single LF.
    var text: String
    var outcome: Outcome

    /// `200 result=<value>[ <extra>]`, e.g. `.result(1, "(hello world)")` or
    /// `.result(0, "endpos=242214")`.
    static func result(_ value: Int, _ extra: String? = nil, failed: Bool = false) -> AGIReply {
        result(String(value), extra, failed: failed)
    }

    /// `200 result=<text>` for results that are strings (GET DATA's digits).
    static func result(_ value: String, _ extra: String? = nil, failed: Bool = false) -> AGIReply {
        let line = "200 result=" + value + (extra.map { " " + $0 } ?? "") + "\n"
        return AGIReply(text: line, outcome: failed ? .failure : .success)
    }

    static let invalidCommand = AGIReply(text: "510 Invalid or unknown command\n", outcome: .invalid)
    static let deadChannel = AGIReply(
        text: "511 Command Not Permitted on a dead channel or intercept routine\n", outcome: .deadChannel)

    /// The 520 block: clients read lines until one starts with `520 `.
    static func usage(_ usage: String) -> AGIReply {
        AGIReply(
            text: "520-Invalid command syntax.  Proper usage follows:\n" + usage + "\n520 End of proper usage.\n",
            outcome: .usage)
    }

    /// `ResultCode` of `AGIExecEnd`.
    var amiResultCode: String {
        switch outcome {
        case .success: "200"
        case .failure: "-1"
        case .invalid: "510"
        case .deadChannel: "511"
        case .usage: "520"
        }
    }

    /// `Result` of `AGIExecEnd`.
    var amiResult: String {
        switch outcome {
        case .success: "Success"
        case .failure: "Failure"
        case .invalid: "Invalid or unknown command"
        case .deadChannel: "Command Not Permitted on a dead channel or intercept routine"
        case .usage: "Usage"
        }
    }
}
