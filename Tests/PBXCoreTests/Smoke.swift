import Testing
@testable import PBXCore

@Test func moduleLinks() { #expect(Bool(true)) }
