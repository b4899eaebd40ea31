/// PBXCore: channels, bridges, the SIP channel driver, config loading (DESIGN.md §1).
public enum PBXCoreModule {}
