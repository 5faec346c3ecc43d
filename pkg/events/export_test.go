package events

// MinIntervalAfter is minInterval, for the tests of package events_test.
var MinIntervalAfter = minInterval
