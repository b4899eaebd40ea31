/// Dialplan: extensions.conf, pattern matching and the per-channel executor (DESIGN.md §1).
public enum DialplanModule {}
