package matching

import (
	"strings"
	"sync"
	"time"

	"github.com/clerkpath/clerkpath/pkg/shred"
)

// seekerNames maps pseudonyms to seeker ids for the seekers index. Seeker
// events name a seeker only by pseudonym (pkg/shred); the id is inside the
// sealed payload, which the index opens. A deleted seeker's mapping is kept
// for forgetGoneAfter only, so that the list consumer, which handles the
// deletion after the index, can still name them. Nothing of it is stored:
// a restart learns it again from the replay (a deleted seeker's events can
// no longer be read, so they are not learnt again).
type seekerNames struct {
	mu   sync.Mutex
	live map[string]string
	gone map[string]goneName
}

type goneName struct {
	id string
	at time.Time
}

// forgetGoneAfter bounds how long a deleted seeker's mapping is kept: far
// longer than a list consumer takes to handle the deletion (IndexWait).
const forgetGoneAfter = 10 * time.Minute

// learn records that pseudonym p stands for id.
func (n *seekerNames) learn(p, id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.live == nil {
		n.live = map[string]string{}
	}
	if had, ok := n.live[p]; ok && had == id {
		return
	}
	n.live[strings.Clone(p)] = id // p may be cut from an event's subject: not all of it
}

// idOf names the seeker a subject token or Sealed.Subject refers to: a
// legacy id as it is, a pseudonym as learnt ("" when it was not).
func (n *seekerNames) idOf(ref string) string {
	if !shred.IsPseudonym(ref) {
		return ref
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if id, ok := n.live[ref]; ok {
		return id
	}
	return n.gone[ref].id
}

// drop forgets a deleted seeker's pseudonym (after forgetGoneAfter) and
// the deleted seekers kept longer than that.
func (n *seekerNames) drop(p string, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id, ok := n.live[p]
	delete(n.live, p)
	for k, g := range n.gone {
		if now.Sub(g.at) > forgetGoneAfter {
			delete(n.gone, k)
		}
	}
	if ok {
		if n.gone == nil {
			n.gone = map[string]goneName{}
		}
		n.gone[p] = goneName{id: id, at: now}
	}
}
