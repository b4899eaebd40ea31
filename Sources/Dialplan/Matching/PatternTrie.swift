/// A context's patterns merged position by position (Asterisk keeps its extensions in a similar
/// trie), so that finding the patterns a number matches costs about one step per digit instead of
/// one try per pattern. Each edge is one pattern position as a byte mask (`ExtensionPattern.ByteMask`);
/// patterns that share leading positions share the path. A node remembers the patterns that
/// end there, and those that continue with `.` or `!` from there.
///
/// Works on printable ASCII numbers, where each byte is a character of its own; for any other
/// number `matches` answers nil and the caller tries each pattern.
struct PatternTrie: Sendable {
    private struct Node: Sendable {
        var edges: [(mask: ExtensionPattern.ByteMask, child: Int)] = []
        /// Patterns whose last position leads here (positions in the context's extension list).
        var ending: [Int] = []
        /// Patterns that continue here with `.` (one or more characters).
        var oneOrMore: [Int] = []
        /// Patterns that continue here with `!` (zero or more characters).
        var zeroOrMore: [Int] = []
    }

    private var nodes = [Node()]

    init() {}

    /// `patterns`: each pattern with its position in the context's extension list.
    init(_ patterns: [(position: Int, pattern: ExtensionPattern)]) {
        for (position, pattern) in patterns { insert(pattern, at: position) }
    }

    private mutating func insert(_ pattern: ExtensionPattern, at position: Int) {
        var node = 0
        for mask in pattern.masks {
            switch mask {
            case .oneOrMore:
                nodes[node].oneOrMore.append(position)
                return
            case .zeroOrMore:
                nodes[node].zeroOrMore.append(position)
                return
            case .set:
                if let existing = nodes[node].edges.first(where: { $0.mask == mask }) {
                    node = existing.child
                } else {
                    nodes.append(Node())
                    nodes[node].edges.append((mask, nodes.count - 1))
                    node = nodes.count - 1
                }
            }
        }
        nodes[node].ending.append(position)
    }

    /// The positions of every pattern `exten` matches now (`E_MATCH`), in ascending order, or
    /// nil when `exten` is not printable ASCII.
    func matches(_ exten: String) -> [Int]? {
        let bytes = Array(exten.utf8)
        guard bytes.allSatisfy(ExtensionPattern.ByteMask.isPrintable) else { return nil }
        var found: [Int] = []
        collect(node: 0, bytes: bytes, at: 0, into: &found)
        return found.sorted()
    }

    private func collect(node index: Int, bytes: [UInt8], at offset: Int, into found: inout [Int]) {
        let node = nodes[index]
        found += node.zeroOrMore
        guard offset < bytes.count else {
            found += node.ending
            return
        }
        found += node.oneOrMore
        for edge in node.edges where edge.mask.contains(bytes[offset]) {
            collect(node: edge.child, bytes: bytes, at: offset + 1, into: &found)
        }
    }
}
