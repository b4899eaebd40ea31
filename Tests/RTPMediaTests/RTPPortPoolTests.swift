import NIOCore
import NIOPosix
import Testing
@testable import RTPMedia

@Suite struct RTPPortPoolTests {
    @Test func evenPortsFIFOAndRelease() throws {
        let pool = try RTPPortPool(range: 10001...10010)  // odd start rounds up; 10010 has no +1
        #expect(pool.range == 10002...10009)
        #expect(pool.capacity == 4)
        let ports = try (0..<4).map { _ in try pool.acquire() }
        #expect(ports == [10002, 10004, 10006, 10008])
        #expect(throws: RTPPortPool.PoolError.exhausted) { try pool.acquire() }
        pool.release(10004)
        pool.release(10004)  // double release ignored
        pool.release(10005)  // odd: not ours
        #expect(pool.available == 1)
        #expect(try pool.acquire() == 10004)
        pool.release(10002)
        pool.release(10008)
        #expect(try pool.acquire() == 10002)  // released first, handed out first
        #expect(throws: RTPPortPool.PoolError.self) { try RTPPortPool(range: 10000...10000) }
    }

    @Test func skipsPortsItCannotBind() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        // Find a free even pair, occupy its RTP port from outside the pool.
        var squatter = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        while squatter.localAddress!.port! % 2 != 0 {  // want an even one: ephemeral ports alternate
            let next = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
            try await squatter.close()
            squatter = next
        }
        defer { squatter.close(promise: nil) }
        let start = squatter.localAddress!.port!
        // Several pairs: a neighbour port may be taken by another test running in parallel too.
        let pool = try RTPPortPool(range: start...(start + 19))
        let (port, channel) = try await pool.acquireBinding { port in
            try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: port).get()
        }
        defer { channel.close(promise: nil) }
        #expect(port != start)  // the squatted port was skipped
        #expect(pool.available == pool.capacity - 1)  // skipped ports went back
    }

    @Test func concurrentAcquireHandsOutEachPortOnce() async throws {
        let pool = try RTPPortPool(range: 20000...21999)
        let ports = await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<125).map { _ in try! pool.acquire() } }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(ports).count == 1000)
        #expect(pool.available == 0)
    }
}

@Suite struct RTPPortPoolErrorTests {
    struct Unrelated: Error {}

    /// A bind error that is not "port taken" fails at once instead of walking the whole pool.
    @Test func otherBindErrorsAreRethrownAtOnce() async throws {
        let pool = try RTPPortPool(range: 30000...30099)
        var attempts = 0
        await #expect(throws: Unrelated.self) {
            _ = try await pool.acquireBinding { _ -> Int in
                attempts += 1
                throw Unrelated()
            }
        }
        #expect(attempts == 1)
        #expect(pool.available == pool.capacity)
        #expect(RTPPortPool.isAddressInUse(IOError(errnoCode: EADDRINUSE, reason: "bind")))
        #expect(!RTPPortPool.isAddressInUse(Unrelated()))
    }
}
