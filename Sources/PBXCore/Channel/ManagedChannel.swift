/// What management (AMI, the console) and the dialplan need from a channel beyond `CallChannel`.
/// Separate protocols so test fakes and future technologies adopt them only when they can.

/// A channel that publishes events carrying its own channel block, in order with the events it
/// produces itself (state changes, hangup): the snapshot is taken where the channel's state
/// lives, at the moment the event is published.
public protocol ChannelEventSource: Sendable {
    func publishEvent(_ make: @escaping @Sendable (ChannelSnapshot) -> ManagerEvent)
}

/// A channel whose current application can be interrupted without hanging it up — Asterisk's
/// `AST_SOFTHANGUP_ASYNCGOTO`, which AMI Redirect uses. While interrupted, every wait the
/// channel offers (prompts, digits, Wait, music, Echo, Record) returns at once as if the
/// channel had hung up, but `isHungUp` stays false; the dialplan executor then continues at
/// the redirect target and clears the interruption.
public protocol InterruptibleChannel: CallChannel {
    func interruptApplication() async
    func clearInterruption() async
}

/// A channel whose end waits for the dialplan run that owns it: its Hangup event (its last)
/// and its removal from the live channels happen when the run is over, after the `h`
/// extension — Asterisk destroys a channel when its PBX thread ends. The executor calls
/// `dialplanEnded` once, when it is done with the channel.
public protocol DialplanOwnedChannel: CallChannel {
    func dialplanEnded() async
}
