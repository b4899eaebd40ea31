/// RTPMedia: RTP/RTCP, codecs, SDP and the relay. Knows nothing of SIP (DESIGN.md §1).
public enum RTPMediaModule {}
