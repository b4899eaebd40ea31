import PBXCore

/// AMI's `AGIExecStart` / `AGIExecEnd` (class agi) around every command, with the channel
/// block, a random `CommandId` shared by the pair and the command line as received.
struct AGIExecEvents {
    let bus: EventBus?
    let channel: any CallChannel

    /// Publishes `AGIExecStart`; returns the command's id for `end`.
    func start(_ line: AGICommandLine) async -> Int {
        let id = Int.random(in: 1...Int(Int32.max))
        guard let bus else { return id }
        let fields = await channel.snapshot.fields() + [.init("CommandId", String(id)), .init("Command", line.text)]
        bus.publish(ManagerEvent(name: "AGIExecStart", class: .agi, fields: fields))
        return id
    }

    func end(_ line: AGICommandLine, id: Int, reply: AGIReply) async {
        guard let bus else { return }
        let fields = await channel.snapshot.fields() + [
            .init("CommandId", String(id)), .init("Command", line.text),
            .init("ResultCode", reply.amiResultCode), .init("Result", reply.amiResult),
        ]
        bus.publish(ManagerEvent(name: "AGIExecEnd", class: .agi, fields: fields))
    }
}
