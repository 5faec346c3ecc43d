package shred

import (
	"bytes"
	"testing"
)

// The mirror keeps its own copy of a key: not the message's buffer, which
// holds the headers too and may be reused, so that changing the buffer
// later changes no key.
func TestTheMirrorKeepsItsOwnCopyOfAKey(t *testing.T) {
	m := &keyMirror{keys: map[string][]byte{}}
	p := (&Keyring{secret: []byte("secret")}).Pseudonym("seeker-1")
	msg := []byte("Nats-Msg-Id: x\r\n\r\n" + string(bytes.Repeat([]byte{7}, 32)))
	data := msg[len(msg)-32:]
	m.apply(keySubjectPrefix+p, data)
	for i := range msg {
		msg[i] = 0
	}
	key, ok, err := m.get(p)
	if !ok || err != nil || !bytes.Equal(key, bytes.Repeat([]byte{7}, 32)) {
		t.Fatalf("after the buffer changed: key %v, known %v, %v", key, ok, err)
	}
	if cap(key) != 32 {
		t.Fatalf("the key keeps %d bytes of its buffer, want 32", cap(key))
	}
}
