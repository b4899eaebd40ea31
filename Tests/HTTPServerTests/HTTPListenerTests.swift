import Foundation
import NIOPosix
import PBXCore
import Testing
@testable import HTTPServer

/// pbxd's HTTP port over a real loopback socket, and the file checks behind it.
@Suite struct HTTPListenerTests {
    let root = NSTemporaryDirectory() + "pbxd-http-\(UUID().uuidString)"

    func makeTree() throws -> String {
        let recordings = root + "/recordings"
        try FileManager.default.createDirectory(atPath: recordings + "/2026/11/22", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: recordings + "/2026/11/22/call.wav", contents: Data((0..<5000).map { UInt8($0 % 251) }))
        FileManager.default.createFile(atPath: recordings + "/2026/11/22/notes.txt", contents: Data("x".utf8))
        FileManager.default.createFile(atPath: recordings + "/2026/11/22/long.ogg", contents: Data("OggS".utf8))
        FileManager.default.createFile(atPath: root + "/secret.wav", contents: Data("secret".utf8))
        try FileManager.default.createSymbolicLink(atPath: recordings + "/2026/11/22/escape.wav", withDestinationPath: root + "/secret.wav")
        try FileManager.default.createDirectory(atPath: recordings + "/2026/11/22/dir.wav", withIntermediateDirectories: true)
        return recordings
    }

    @Test func onlyRegularWavFilesInsideTheTreeOpen() throws {
        let files = RecordingFiles(directory: try makeTree())
        let file = try #require(files.openServable("2026/11/22/call.wav"))
        close(file.descriptor)
        #expect(file.size == 5000 && file.contentType == "audio/wav")
        let ogg = try #require(files.openServable("2026/11/22/long.ogg"))
        close(ogg.descriptor)
        #expect(ogg.size == 4 && ogg.contentType == "audio/ogg")
        for refused in ["2026/11/22/escape.wav", "2026/11/22/notes.txt", "2026/11/22/dir.wav", "2026/11/22/missing.wav", "../secret.wav"] {
            #expect(files.openServable(refused) == nil, "\(refused)")
        }
    }

    @Test func servesSignedRecordingsHealthAndRefusals() async throws {
        let recordings = try makeTree()
        let signer = RecordingLinkSigner(secret: "k", recordingsDirectory: recordings, base: "", ttlSeconds: 60)
        let listener = try await HTTPListener.start(
            host: "127.0.0.1", port: 0, recordingsDirectory: recordings, signer: signer, group: MultiThreadedEventLoopGroup.singleton)
        defer { Task { await listener.stop() } }
        let port = listener.port
        let health = try HTTPProbe.request("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        #expect(health.status == 200 && health.body == Array("OK\n".utf8))

        let link = try #require(signer.link(toFile: recordings + "/2026/11/22/call.wav"))
        let got = try HTTPProbe.request("GET \(link) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        #expect(got.status == 200)
        #expect(got.headers["content-type"] == "audio/wav" && got.headers["content-length"] == "5000")
        #expect(got.body == (0..<5000).map { UInt8($0 % 251) })

        let head = try HTTPProbe.request("HEAD \(link) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        #expect(head.status == 200 && head.headers["content-length"] == "5000" && head.body.isEmpty)

        let missing = try #require(signer.link(toFile: recordings + "/2026/11/22/gone.wav"))
        #expect(try HTTPProbe.request("GET \(missing) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port).status == 404)
        let escape = try #require(signer.link(toFile: recordings + "/2026/11/22/escape.wav"))
        #expect(try HTTPProbe.request("GET \(escape) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port).status == 404)
        let unsigned = "/recordings/2026/11/22/call.wav"
        #expect(try HTTPProbe.request("GET \(unsigned) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port).status == 403)
        let post = try HTTPProbe.request("POST \(link) HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi", port: port)
        #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD")

        // Two requests on one keep-alive connection, answered in order.
        let both = try HTTPProbe.raw(
            "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET \(link) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        let (first, rest) = HTTPProbe.parse(both[...])
        let (second, tail) = HTTPProbe.parse(rest)
        #expect(first.status == 200 && first.body == Array("OK\n".utf8))
        #expect(second.status == 200 && second.body.count == 5000 && tail.isEmpty)
    }
}

/// A blocking HTTP/1.1 client on a POSIX socket: sends the bytes, reads until the server closes.
enum HTTPProbe {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    static func raw(_ request: String, port: Int) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw POSIXError(.EIO) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    static func request(_ request: String, port: Int) throws -> Response {
        let bytes = try raw(request, port: port)
        return parse(bytes[...]).0
    }

    /// One response off the front of `bytes` (its body by Content-Length, or what arrived: a
    /// HEAD's body is then empty unless the server wrongly sent one), and what follows it.
    static func parse(_ bytes: ArraySlice<UInt8>) -> (Response, ArraySlice<UInt8>) {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return (Response(status: 0, headers: [:], body: []), []) }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = bytes[end.upperBound...]
        let length = Int(headers["content-length"] ?? "") ?? body.count
        let cut = body.index(body.startIndex, offsetBy: min(length, body.count))
        return (Response(status: status, headers: headers, body: Array(body[..<cut])), body[cut...])
    }
}
