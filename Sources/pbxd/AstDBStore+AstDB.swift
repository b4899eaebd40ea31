import Dialplan
import Storage

/// `DB()` and friends use the `astdb` table of pbxd.sqlite. The conformance lives here, in the
/// target that imports both sides: Storage must not import the switch (DESIGN.md §1), and
/// Dialplan does not link SQLite. `AstDBStore`'s methods already have the protocol's shapes.
extension AstDBStore: AstDB {}
