import Foundation

/// Orders the free members of a queue for one caller by the queue's strategy (app_queue's
/// `calc_metric`): lowest penalty first, then by the strategy's metric. `ringall` returns every
/// member of the lowest penalty level; the others return one.
struct MemberSelection {
    var strategy: QueueStrategy
    /// Round-robin memory: the config position of the member rung last (rrmemory, rrordered).
    var lastOrder: Int?

    /// - Parameter candidates: free members, in config order.
    /// - Parameter random: draws a number in 0..<upper (injected for tests).
    func choose(from candidates: [QueueMember], random: (Int) -> Int) -> [QueueMember] {
        guard let lowest = candidates.map(\.penalty).min() else { return [] }
        let level = candidates.filter { $0.penalty == lowest }
        switch strategy {
        case .ringall:
            return level
        case .linear:
            return [level.min { $0.order < $1.order }!]
        case .leastrecent:
            // Never-called members first (in config order), then the oldest last call.
            return [level.min { lhs, rhs in
                let left = lhs.lastCall ?? .distantPast, right = rhs.lastCall ?? .distantPast
                return left == right ? lhs.order < rhs.order : left < right
            }!]
        case .fewestcalls:
            return [level.min { $0.callsTaken == $1.callsTaken ? $0.order < $1.order : $0.callsTaken < $1.callsTaken }!]
        case .random:
            return [level[random(level.count)]]
        case .wrandom:
            // app_queue: metric = random % ((1 + penalty) * 1000) over every candidate, lowest wins,
            // so a higher penalty makes a member less likely without excluding it.
            let metrics = candidates.map { random(($0.penalty + 1) * 1000) }
            return [candidates[metrics.indices.min { metrics[$0] < metrics[$1] }!]]
        case .rrmemory, .rrordered:
            return [nextInRotation(level)]
        }
    }

    /// The member after the last one rung, in config order, wrapping around.
    private func nextInRotation(_ level: [QueueMember]) -> QueueMember {
        let sorted = level.sorted { $0.order < $1.order }
        guard let lastOrder else { return sorted[0] }
        return sorted.first { $0.order > lastOrder } ?? sorted[0]
    }
}
