/// Upper bounds the parser enforces before doing any work proportional to the input, so a peer
/// cannot make pbxd buffer or scan without limit (DESIGN.md §2, STYLE.md §7). Modelled on
/// swift-nio's `NIOHTTPDecoderLimitConfiguration`: one struct, safe defaults, checked early.
public struct SIPParserLimits: Sendable, Hashable {
    /// Whole message (start line + headers + body). Larger datagrams or stream frames fail with
    /// 513 Message Too Large. 64 KiB is the largest UDP datagram and far above any real INVITE.
    public var maxMessageBytes: Int
    /// Header fields (each physical header line, folded or not, counts once). Exceeding it is 513.
    public var maxHeaderCount: Int
    /// One logical header field (name, value and folding) or the start line. Longer is 513.
    public var maxLineLength: Int
    /// Largest accepted Content-Length value; larger is 413 Request Entity Too Large.
    public var maxContentLength: Int
    /// Longest URI (Request-URI: 414 Request-URI Too Long; URI in a header: 400).
    public var maxURILength: Int

    public init(
        maxMessageBytes: Int = 65_536, maxHeaderCount: Int = 128, maxLineLength: Int = 8_192,
        maxContentLength: Int = 65_536, maxURILength: Int = 4_096
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxLineLength = maxLineLength
        self.maxContentLength = maxContentLength
        self.maxURILength = maxURILength
    }

    /// The defaults above; suitable for UDP, TCP and TLS.
    public static let `default` = SIPParserLimits()
}
