package notifications

// NotifyParts is how many events' parts one notification holds at most.
const NotifyParts = notifyParts
