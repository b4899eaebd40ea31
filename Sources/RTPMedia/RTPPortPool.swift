import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands out RTP port pairs from `rtp.conf`'s `rtpstart...rtpend`: an even RTP port, RTCP on the
/// next odd port (RFC 3550 §11).
///
/// Why FIFO and not lowest-first: a port released by a call that just ended is reused last, so
/// stray late packets for the old call do not land in a new one. Why a lock: it is taken twice
/// per call (acquire, release), never per packet, and may be called from any task or loop.
public final class RTPPortPool: Sendable {
    /// The usable range after rounding: first even port to the last even port whose +1 fits.
    public let range: ClosedRange<Int>
    /// Number of RTP/RTCP pairs in the pool.
    public let capacity: Int

    private struct State {
        /// Ring buffer of free even ports; `head` is the next to hand out.
        var free: [UInt16]
        var head = 0
        var count: Int
        /// Indexed by (port - range.lowerBound) / 2: guards against double release.
        var inUse: [Bool]
    }
    private let state: NIOLockedValueBox<State>

    public enum PoolError: Error, Equatable {
        case invalidRange(ClosedRange<Int>)
        case exhausted
    }

    /// - Parameter range: `rtpstart...rtpend`; an odd start is rounded up. Ports must be > 0.
    public init(range: ClosedRange<Int>) throws {
        let first = range.lowerBound % 2 == 0 ? range.lowerBound : range.lowerBound + 1
        let last = (range.upperBound - 1) % 2 == 0 ? range.upperBound - 1 : range.upperBound - 2
        guard first > 0, range.upperBound <= 65535, last >= first else {
            throw PoolError.invalidRange(range)
        }
        let ports = stride(from: first, through: last, by: 2).map { UInt16($0) }
        self.range = first...(last + 1)
        self.capacity = ports.count
        self.state = NIOLockedValueBox(State(free: ports, count: ports.count, inUse: Array(repeating: false, count: ports.count)))
    }

    /// Free pairs right now.
    public var available: Int { self.state.withLockedValue { $0.count } }

    /// Takes the next free even port, or throws `.exhausted`.
    public func acquire() throws -> Int {
        let lower = self.range.lowerBound
        return try self.state.withLockedValue { s in
            guard s.count > 0 else { throw PoolError.exhausted }
            let port = s.free[s.head]
            s.head = (s.head + 1) % s.free.count
            s.count -= 1
            s.inUse[(Int(port) - lower) / 2] = true
            return Int(port)
        }
    }

    /// Gives a port back (to the tail: reused last). Releasing a port that is not out is ignored,
    /// so a double close cannot hand one port to two calls.
    public func release(_ port: Int) {
        let lower = self.range.lowerBound
        guard port % 2 == 0, self.range.contains(port) else { return }
        self.state.withLockedValue { s in
            let slot = (port - lower) / 2
            guard s.inUse[slot] else { return }
            s.inUse[slot] = false
            s.free[(s.head + s.count) % s.free.count] = UInt16(port)
            s.count += 1
        }
    }

    /// Acquires pairs until `bind` succeeds, skipping ports another process holds (bind fails
    /// with an error `isPortBusy` accepts, by default EADDRINUSE/EACCES). A skipped port goes back
    /// to the tail of the pool: it may be free again later. Any other error is rethrown at once
    /// (a bad bind address fails every port alike). Gives up after trying every pair once.
    public func acquireBinding<T>(
        isPortBusy: (Error) -> Bool = RTPPortPool.isAddressInUse,
        _ bind: (Int) async throws -> T
    ) async throws -> (port: Int, value: T) {
        var lastError: Error = PoolError.exhausted
        for _ in 0..<self.capacity {
            let port = try self.acquire()
            do {
                return (port, try await bind(port))
            } catch {
                self.release(port)
                guard isPortBusy(error) else { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    /// True for the bind errors that mean "this port is taken": EADDRINUSE, EACCES.
    public static func isAddressInUse(_ error: Error) -> Bool {
        guard let io = error as? IOError else { return false }
        return io.errnoCode == EADDRINUSE || io.errnoCode == EACCES
    }
}
