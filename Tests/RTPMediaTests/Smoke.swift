import Testing
@testable import RTPMedia

@Test func moduleLinks() { #expect(Bool(true)) }
