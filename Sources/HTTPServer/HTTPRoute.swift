import Foundation

/// What pbxd's HTTP port does with one request, decided from its method and target alone
/// (no I/O, so every refusal is unit-tested):
/// - `GET|HEAD /health` → 200 `OK`;
/// - `GET|HEAD /recordings/<path>?expires=<epoch>&sig=<hex>` with a valid, unexpired
///   signature → the file (404 when it does not exist, found later);
/// - a path that would leave the recordings tree (`..`, `.`, `//`, NUL, bad `%XX`) → 403,
///   checked before the signature; a missing, expired or wrong signature → 403;
/// - another method → 405; anything else → 404.
enum HTTPRoute: Equatable {
    case health
    /// A file under the recordings directory, by its relative path.
    case recording(String)
    case refuse(status: Int, reason: String)

    static func route(method: String, target: String, signer: RecordingLinkSigner?, now: Date) -> HTTPRoute {
        guard method == "GET" || method == "HEAD" else { return .refuse(status: 405, reason: "Method Not Allowed") }
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts[0]
        if path == "/health" { return .health }
        let prefix = "/recordings/"
        guard path.hasPrefix(prefix) else { return .refuse(status: 404, reason: "Not Found") }
        guard let relative = RecordingPath.percentDecode(path.dropFirst(prefix.count)), RecordingPath.isSafe(relative) else {
            return .refuse(status: 403, reason: "Forbidden")
        }
        guard let signer else { return .refuse(status: 403, reason: "Forbidden") }
        let query = parts.count > 1 ? Self.query(parts[1]) : [:]
        guard let expiresText = query["expires"], let expires = Int(expiresText), let signature = query["sig"],
              expires >= Int(now.timeIntervalSince1970),
              signer.isValid(signature: signature, path: relative, expires: expires)
        else { return .refuse(status: 403, reason: "Forbidden") }
        return .recording(relative)
    }

    /// `a=1&b=2` → [a: 1, b: 2]; the first of repeated names counts.
    private static func query(_ text: Substring) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, let name = RecordingPath.percentDecode(kv[0]), let value = RecordingPath.percentDecode(kv[1]) else { continue }
            if out[name] == nil { out[name] = value }
        }
        return out
    }
}
