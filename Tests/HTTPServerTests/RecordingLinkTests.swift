import Foundation
import Testing
@testable import HTTPServer

@Suite struct RecordingLinkTests {
    let signer = RecordingLinkSigner(secret: "s3cret", recordingsDirectory: "/data/recordings/", base: "http://127.0.0.1:8088", ttlSeconds: 600)
    let now = Date(timeIntervalSince1970: 1_795_306_812)

    /// HMAC-SHA256("s3cret", "2026/11/22/a.wav\n1795307412"), computed independently by
    /// `openssl dgst -sha256 -hmac s3cret`.
    @Test func signatureIsHMACOfPathNewlineExpires() {
        let known = Self.openSSL("2026/11/22/a.wav\n1795307412", key: "s3cret")
        #expect(known.count == 64)
        #expect(signer.signature(path: "2026/11/22/a.wav", expires: 1_795_307_412) == known)
    }

    @Test func linkToAFileUnderTheRecordingsRoutesToIt() throws {
        let link = try #require(signer.link(toFile: "/data/recordings/2026/11/22/call 1.wav", now: now))
        #expect(link.hasPrefix("http://127.0.0.1:8088/recordings/2026/11/22/call%201.wav?expires=1795307412&sig="))
        let target = String(link.dropFirst("http://127.0.0.1:8088".count))
        #expect(HTTPRoute.route(method: "GET", target: target, signer: signer, now: now) == .recording("2026/11/22/call 1.wav"))
        #expect(HTTPRoute.route(method: "HEAD", target: target, signer: signer, now: now) == .recording("2026/11/22/call 1.wav"))
        // Still valid at the expiry second, refused one second later.
        #expect(HTTPRoute.route(method: "GET", target: target, signer: signer, now: now + 600) == .recording("2026/11/22/call 1.wav"))
        #expect(HTTPRoute.route(method: "GET", target: target, signer: signer, now: now + 601) == .refuse(status: 403, reason: "Forbidden"))
    }

    @Test func filesOutsideTheRecordingsGetNoLink() {
        #expect(signer.link(toFile: "/data/other/x.wav", now: now) == nil)
        #expect(signer.link(toFile: "/data/recordings-old/x.wav", now: now) == nil)
        #expect(signer.link(toFile: "/data/recordings/../secret.wav", now: now) == nil)
    }

    @Test func tamperedLinksAreRefused() throws {
        let link = try #require(signer.link(toFile: "/data/recordings/2026/11/22/a.wav", now: now))
        let target = String(link.dropFirst("http://127.0.0.1:8088".count))
        let forbidden = HTTPRoute.refuse(status: 403, reason: "Forbidden")
        let otherFile = target.replacingOccurrences(of: "/a.wav", with: "/b.wav")
        let later = target.replacingOccurrences(of: "expires=1795307412", with: "expires=1795397412")
        var flipped = Array(target)
        flipped[flipped.count - 1] = flipped.last == "0" ? "1" : "0"
        let otherKey = RecordingLinkSigner(secret: "other", recordingsDirectory: "/data/recordings", base: "", ttlSeconds: 600)
        for bad in [otherFile, later, String(flipped), target.components(separatedBy: "&sig=")[0],
                    "/recordings/2026/11/22/a.wav", "/recordings/2026/11/22/a.wav?expires=1795307412&sig=zz"] {
            #expect(HTTPRoute.route(method: "GET", target: bad, signer: signer, now: now) == forbidden, "\(bad)")
        }
        #expect(HTTPRoute.route(method: "GET", target: target, signer: otherKey, now: now) == forbidden)
        #expect(HTTPRoute.route(method: "GET", target: target, signer: nil, now: now) == forbidden)
        // Upper-case hex is the same signature.
        let upper = target.components(separatedBy: "&sig=")[0] + "&sig=" + target.components(separatedBy: "&sig=")[1].uppercased()
        #expect(HTTPRoute.route(method: "GET", target: upper, signer: signer, now: now) == .recording("2026/11/22/a.wav"))
    }

    @Test func pathsLeavingTheTreeAreRefusedWhateverTheSignature() {
        let forbidden = HTTPRoute.refuse(status: 403, reason: "Forbidden")
        for path in ["../pbxd.sqlite", "2026/../../pbxd.sqlite", "%2e%2e/pbxd.sqlite", "2026/%2E%2E/%2e%2e/x.wav", "./a.wav",
                     "2026//a.wav", "", "a%00.wav", "a%2", "a%zz.wav", "a\\..\\b.wav", "%2Fetc/passwd"] {
            let expires = 1_795_307_412
            let decoded = RecordingPath.percentDecode(Substring(path)) ?? path
            let target = "/recordings/\(path)?expires=\(expires)&sig=\(signer.signature(path: decoded, expires: expires))"
            #expect(HTTPRoute.route(method: "GET", target: target, signer: signer, now: now) == forbidden, "\(path)")
        }
    }

    @Test func healthMethodsAndUnknownPaths() {
        #expect(HTTPRoute.route(method: "GET", target: "/health", signer: nil, now: now) == .health)
        #expect(HTTPRoute.route(method: "HEAD", target: "/health?x=1", signer: nil, now: now) == .health)
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "get"] {
            #expect(HTTPRoute.route(method: method, target: "/health", signer: signer, now: now) == .refuse(status: 405, reason: "Method Not Allowed"))
        }
        for target in ["/", "/recordings", "/metrics", "/healthz", "/../etc/passwd"] {
            #expect(HTTPRoute.route(method: "GET", target: target, signer: signer, now: now) == .refuse(status: 404, reason: "Not Found"), "\(target)")
        }
    }

    /// The HMAC as OpenSSL computes it, so the test does not trust the code under test.
    static func openSSL(_ message: String, key: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["dgst", "-sha256", "-hmac", key, "-r"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(message.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
