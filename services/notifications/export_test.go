package notifications

// NotifyParts is how many events' parts one notification holds at most.
const NotifyParts = notifyParts

// MatchedChunk is how many seekers one command adds to a matched set.
const MatchedChunk = matchedChunk
