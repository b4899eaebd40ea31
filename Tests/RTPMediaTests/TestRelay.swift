import NIOConcurrencyHelpers
import NIOPosix
import RTPMedia

/// A relay on loopback for one test, with 100 ports of its own: blocks are handed out in turn
/// from a random starting block, so tests running at once in this process never share ports
/// and two test runs on one machine are unlikely to. The blocks lie below Linux's ephemeral
/// range (32768–60999): a socket bound to port 0 elsewhere can't take a port a test just freed.
enum TestRelay {
    private static let nextBlock = NIOLockedValueBox(Int.random(in: 0..<80))

    static func make() throws -> RTPRelay {
        let block = nextBlock.withLockedValue { block -> Int in
            defer { block = (block + 1) % 80 }
            return block
        }
        let start = 22_000 + block * 100
        return RTPRelay(group: MultiThreadedEventLoopGroup.singleton,
                        portPool: try RTPPortPool(range: start...(start + 99)), bindHost: "127.0.0.1")
    }
}
