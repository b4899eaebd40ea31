#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Which local IP address to advertise (Via, Contact, SDP) to a given peer.
enum LocalAddress {
    /// The bound address when it is specific; otherwise the source address the kernel routes
    /// from towards `remote` (a connected UDP socket sends nothing, it only asks the routing table).
    static func toward(_ remote: SocketAddress, bound: SocketAddress?) -> String {
        if let ip = bound?.ipAddress, ip != "0.0.0.0", ip != "::" { return ip }
        return routedSource(toward: remote) ?? "127.0.0.1"
    }

    static func routedSource(toward remote: SocketAddress) -> String? {
        guard case .v4(let v4) = remote else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var target = v4.address
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &local.sin_addr, &buffer, socklen_t(INET_ADDRSTRLEN)) != nil else { return nil }
        return String(cString: buffer)
    }
}
