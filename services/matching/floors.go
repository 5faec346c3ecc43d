package matching

import (
	"sync"
	"time"
)

// floors remembers, for seekers whose stored list is full, the lowest
// score it held when a reverse match last looked (the list's floor): a new
// posting scoring no more than that does not enter the list, so reverse
// matching skips the pair without asking Redis. At 100,000 postings and
// 100,000 seekers a posting suits about 4,800 seekers, and sending every
// pair to Redis to be turned away was most of what reverse matching cost
// (issue 14).
//
// A remembered floor is never above the list's real one while the list
// only gains postings (entering a full list raises its floor) and this
// copy writes them (a listed posting whose score falls lowers the floor,
// which pairsScript reports). It can be above it when the list loses
// postings (a posting closed, or the seeker changed) or when another copy
// lowered a listed posting's score. This copy forgets the floors of the lists it takes postings
// from and of the seekers whose profile it applies; a list another copy
// takes a posting from is only noticed when the floor expires, so a floor
// is believed for floorTTL at most. Meanwhile a posting that would have
// filled the gap is not listed, and the list is one short until the next
// posting that beats the floor, or the seeker's next refresh.
type floors struct {
	mu    sync.RWMutex
	m     map[string]floor
	ttl   time.Duration
	now   func() time.Duration // time since the cache began (not the service's clock)
	swept time.Duration
}

type floor struct {
	score float64
	at    time.Duration
}

// floorTTL is how long a floor learnt from Redis is believed.
const floorTTL = time.Minute

func newFloors() *floors {
	start := time.Now()
	return &floors{m: map[string]floor{}, ttl: floorTTL, now: func() time.Duration { return time.Since(start) }}
}

// below reports whether score cannot enter the seeker's list: the list is
// known to be full with a floor of at least score. Callers checking many
// pairs take the read lock once with view.
func (f *floors) below(seeker string, score float64, now time.Duration) bool {
	fl, ok := f.m[seeker]
	return ok && score <= fl.score && now-fl.at < f.ttl
}

// view runs fn under the read lock, with the time to check floors at.
func (f *floors) view(fn func(below func(seeker string, score float64) bool)) {
	now := f.now()
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(func(seeker string, score float64) bool { return f.below(seeker, score, now) })
}

// learn records a full list's floor as Redis reported it.
func (f *floors) learn(seeker string, score float64) {
	now := f.now()
	f.mu.Lock()
	f.m[seeker] = floor{score, now}
	f.mu.Unlock()
}

// forget drops what is known of these seekers' floors.
func (f *floors) forget(seekers ...string) {
	f.mu.Lock()
	for _, id := range seekers {
		delete(f.m, id)
	}
	f.mu.Unlock()
}

// sweep drops expired floors, at most once a floorTTL (so seekers who
// left, or whose list stopped filling, stop taking memory).
func (f *floors) sweep() {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if now-f.swept < f.ttl {
		return
	}
	f.swept = now
	for id, fl := range f.m {
		if now-fl.at >= f.ttl {
			delete(f.m, id)
		}
	}
}
