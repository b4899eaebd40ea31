import Testing
@testable import SIPStack

@Test func moduleLinks() { #expect(Bool(true)) }
