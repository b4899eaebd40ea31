import Testing
@testable import Dialplan

@Test func moduleLinks() { #expect(Bool(true)) }
