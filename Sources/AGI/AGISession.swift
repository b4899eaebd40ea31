import Dialplan
import PBXCore

/// One AGI conversation (res_agi's `run_agi`): sends the environment, then runs the script's
/// commands one at a time, each answered by one reply, until the script closes its end.
///
/// When the channel hangs up — during a command or while the script is thinking — the script is
/// told once (`notifyHangup`: the `HANGUP` line for FastAGI, SIGHUP for a local script) and the
/// session goes on in dead mode: only commands marked `allowedWhenDead` run, the others get
/// 511. `AGIEXITONHANGUP=yes` ends the session at the hangup instead; `AGISIGHUP=no` leaves the
/// script untold.
struct AGISession {
    let transport: any AGITransport
    let context: AGICommandContext
    let commands: AGICommandTable
    /// How the script learns of the hangup.
    let notifyHangup: @Sendable () async -> Void

    /// What the session saw.
    struct Outcome: Equatable {
        /// The channel hung up before the session ended (AGISTATUS=HANGUP).
        var hungUp: Bool
    }

    private enum Input {
        case line(String)
        case closed
        case hangup
    }

    func run(environment: String) async -> Outcome {
        let channel = context.channel
        let execution = context.execution
        let events = AGIExecEvents(bus: context.settings.events, channel: channel)
        // A session started after the hangup (in `h`) is dead from the start, without notice.
        var dead = await channel.isHungUp
        let exitOnHangup = execution.variable("AGIEXITONHANGUP")?.lowercased() == "yes"
        let tellScript = execution.variable("AGISIGHUP")?.lowercased() != "no"
        do {
            try await transport.send(environment)
        } catch {
            execution.logger.warning("AGI: cannot send the environment: \(error)")
            await transport.close()
            return Outcome(hungUp: dead)
        }

        let (inputs, feed) = AsyncStream<Input>.makeStream()
        let lines = transport.lines
        let reader = Task {
            for await line in lines { feed.yield(.line(line)) }
            feed.yield(.closed)
        }
        let watcher = Task {
            while !Task.isCancelled {
                if await channel.waitForHangup(timeout: .seconds(1)) {
                    feed.yield(.hangup)
                    return
                }
            }
        }
        defer {
            reader.cancel()
            watcher.cancel()
        }

        /// Marks the session dead; returns whether it should end now.
        func channelGone() async -> Bool {
            guard !dead else { return false }
            dead = true
            execution.logger.debug("AGI: channel hung up; notifying the script")
            if tellScript { await notifyHangup() }
            return exitOnHangup
        }

        loop: for await input in inputs {
            switch input {
            case .closed:
                break loop
            case .hangup:
                if await channelGone() { break loop }
            case .line(let text):
                let line = AGICommandLine(text)
                let id = await events.start(line)
                let reply = await execute(line, dead: dead)
                await events.end(line, id: id, reply: reply)
                do {
                    try await transport.send(reply.text)
                } catch {
                    execution.logger.debug("AGI: script gone while replying: \(error)")
                    break loop
                }
                if await channel.isHungUp, await channelGone() { break loop }
            }
        }
        await transport.close()
        return Outcome(hungUp: await channel.isHungUp)
    }

    /// Finds and runs one command (510 unknown, 511 dead, 520 bad arguments).
    func execute(_ line: AGICommandLine, dead: Bool) async -> AGIReply {
        guard let command = commands.command(for: line) else { return .invalidCommand }
        if dead, !command.allowedWhenDead { return .deadChannel }
        do {
            return try await command.handler(context, line)
        } catch {
            return .usage(command.usage)
        }
    }
}
