import NIOPosix
import RTPMedia

/// A relay on loopback for one test, with 100 ports of its own picked at random so that tests
/// running at once (or two test runs on one machine) don't fight over the same ports.
enum TestRelay {
    static func make() throws -> RTPRelay {
        let start = 50_000 + Int.random(in: 0..<80) * 100
        return RTPRelay(group: MultiThreadedEventLoopGroup.singleton,
                        portPool: try RTPPortPool(range: start...(start + 99)), bindHost: "127.0.0.1")
    }
}
