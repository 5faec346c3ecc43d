package posting

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"math/bits"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// NearDuplicateDistance is the largest Hamming distance between the SimHash
// values of two postings treated as near-duplicates. It is kept small on
// purpose: a false merge hides a real job, and the ingest service's banded
// index (seven bands, so that any pair within 6 bits shares one) depends on
// this value. Measured on the 70 labelled postings
// (TestSimHashSeparatesPostings): distinct postings are 20 or more bits
// apart; a re-post with one sentence added is within 6 bits 69 times in 70,
// with one word changed 58 times, with an agency intro added about half the
// time, and wrapped in an agency intro and outro only 14 times (median 8,
// up to 17 bits, worst on short postings). Catching those needs a looser
// threshold confirmed by another signal (same title and place), not SimHash
// alone.
const NearDuplicateDistance = 6

// shingleWords is the number of words in a SimHash shingle. Three-word
// shingles keep word order (so two postings built from the same boilerplate
// phrases in different orders differ) without making one changed word
// change many shingles.
const shingleWords = 3

// Fingerprint identifies the content of a posting: employer, identifier,
// title, description, place, work mode, employment types, pay and dates. It
// ignores letter case and whitespace, so the same posting sent twice (or
// re-sent with its HTML re-flowed) has the same fingerprint, and any change a
// reader would notice gives a new one. Derived fields (requirements, ids) are
// left out: they follow from the content.
func Fingerprint(p Posting) string {
	h := sha256.New()
	f := fingerprinter{h: h}
	f.text(p.Employer)
	f.text(p.Identifier)
	f.text(p.Title)
	f.text(p.Description)
	f.text(p.Location.PostalCode)
	f.text(p.Location.Locality)
	f.text(p.Location.Region)
	f.text(p.Location.Country)
	f.text(p.WorkMode)
	for _, t := range p.EmploymentType {
		f.text(t)
	}
	for _, v := range [...]float64{p.SalaryHourlyMin, p.SalaryHourlyMax} {
		f.text(strconv.FormatFloat(v, 'f', 2, 64))
	}
	f.text(dateText(p.DatePosted))
	f.text(dateText(p.ValidThrough))
	f.flush()
	var sum [sha256.Size]byte
	// 128 bits: collisions stay negligible for billions of postings, and
	// the id stays short enough for a message header.
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// fingerprinter writes text to a hash lower-cased, with whitespace runs
// collapsed to one space and trimmed, and each field ended by a separator
// that cannot occur in text.
type fingerprinter struct {
	h   hash.Hash
	buf [512]byte
	n   int
}

func (f *fingerprinter) text(s string) {
	space := false
	wrote := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == ' ' || c >= '\t' && c <= '\r' {
				space = wrote
				i++
				continue
			}
			if space {
				f.byte(' ')
				space = false
			}
			// Copy the run of other ASCII bytes and single spaces,
			// lower-casing it in the buffer.
			j := i + 1
			for j < len(s) && (visibleASCII(s[j]) || s[j] == ' ' && j+1 < len(s) && visibleASCII(s[j+1])) {
				j++
			}
			for i < j {
				if f.n == len(f.buf) {
					f.flush()
				}
				m := copy(f.buf[f.n:], s[i:j])
				for k, b := range f.buf[f.n : f.n+m] {
					if b >= 'A' && b <= 'Z' {
						f.buf[f.n+k] = b + 'a' - 'A'
					}
				}
				f.n += m
				i += m
			}
			wrote = true
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsSpace(r) {
			space = wrote
			continue
		}
		if space {
			f.byte(' ')
			space = false
		}
		f.rune(unicode.ToLower(r))
		wrote = true
	}
	f.byte(0x1f) // unit separator
}

func (f *fingerprinter) byte(c byte) {
	if f.n == len(f.buf) {
		f.flush()
	}
	f.buf[f.n] = c
	f.n++
}

func (f *fingerprinter) rune(r rune) {
	if f.n+utf8.UTFMax > len(f.buf) {
		f.flush()
	}
	f.n += utf8.EncodeRune(f.buf[f.n:], r)
}

func (f *fingerprinter) flush() {
	f.h.Write(f.buf[:f.n])
	f.n = 0
}

// SimHash returns Charikar's similarity hash of text over shingles of three
// consecutive words (lower-cased letters and digits): similar texts get
// hashes a small Hamming distance apart. Text with fewer than three words is
// one shingle.
func SimHash(text string) uint64 { return simHash(text) }

// simHash is SimHash over texts read one after the other, as if joined by
// a space.
func simHash(texts ...string) uint64 {
	var s simHasher
	for _, text := range texts {
		s.endWord()
		s.write(text)
	}
	return s.sum()
}

// simHasher counts, for each of the 64 bits, how many shingles of a text
// have it set. Words are runs of letters and digits, hashed with FNV-1a as
// they are read, lower-cased.
type simHasher struct {
	word   uint64 // FNV-1a hash of the word being read
	inWord bool
	window [shingleWords]uint64 // hashes of the last words
	words  int
	lanes  [8]uint64 // bit counts, eight bits per lane byte
	counts [64]int
	n      int // shingles counted
	inLane int // shingles added since the lanes were last emptied
}

// FNV-1a's offset basis and prime.
const fnvOffsetBasis, fnvPrime = 14695981039346656037, 1099511628211

// write reads text; ASCII takes the short path.
func (s *simHasher) write(text string) {
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				s.endWord()
				continue
			}
			s.letter(rune(c))
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			s.endWord()
			continue
		}
		s.letter(unicode.ToLower(r))
	}
}

// letter adds a lower-cased letter or digit to the word being read.
func (s *simHasher) letter(r rune) {
	if !s.inWord {
		s.inWord, s.word = true, fnvOffsetBasis
	}
	s.word = (s.word ^ uint64(r)) * fnvPrime
}

// endWord ends the word being read, if any, and counts the shingle it
// completes.
func (s *simHasher) endWord() {
	if !s.inWord {
		return
	}
	s.inWord = false
	copy(s.window[:], s.window[1:])
	s.window[shingleWords-1] = s.word
	if s.words++; s.words >= shingleWords {
		s.add(shingle(s.window[:]))
	}
}

// add counts a shingle's bits in the lanes: lanes[j] holds, in byte l, how
// many shingles had bit 8*l+j set. That is 8 additions per shingle instead
// of 64; the bytes are emptied before they can overflow.
func (s *simHasher) add(h uint64) {
	for j := range s.lanes {
		s.lanes[j] += (h >> j) & 0x0101010101010101
	}
	s.n++
	if s.inLane++; s.inLane == 255 {
		drainLanes(&s.lanes, &s.counts)
		s.inLane = 0
	}
}

// sum ends the text: a text of fewer than shingleWords words is one
// shingle; each bit set in most shingles is set in the hash.
func (s *simHasher) sum() uint64 {
	s.endWord()
	if s.words > 0 && s.words < shingleWords {
		s.add(shingle(s.window[shingleWords-s.words:]))
	}
	drainLanes(&s.lanes, &s.counts)
	var out uint64
	for b, c := range s.counts {
		if 2*c > s.n {
			out |= 1 << b
		}
	}
	return out
}

// shingle combines word hashes in order and mixes the result (SplitMix64's
// finaliser), so that every bit of the shingle hash is about equally likely
// to be set, as SimHash needs.
func shingle(ws []uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, w := range ws {
		h = (h ^ w) * 0xbf58476d1ce4e5b9
		h = bits.RotateLeft64(h, 31)
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

func drainLanes(lanes *[8]uint64, counts *[64]int) {
	for j, v := range lanes {
		for l := 0; l < 8; l++ {
			counts[8*l+j] += int(v >> (8 * l) & 0xff)
		}
		lanes[j] = 0
	}
}

// visibleASCII reports whether c is an ASCII character other than whitespace
// (control characters count as visible: they are kept, not collapsed).
func visibleASCII(c byte) bool { return c < utf8.RuneSelf && c != ' ' && (c < '\t' || c > '\r') }

// Hamming returns the number of bits in which a and b differ.
func Hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// IDOf is the id a record with an identifier gets once normalised, from
// its employer and identifier alone; "" without an identifier (the id then
// comes from the content). It names a record that was refused, so that a
// feed re-sync does not close the posting that record would have updated.
func IDOf(r Raw) string {
	p := Posting{Identifier: plainLine(r.Identifier), Employer: plainLine(r.Employer)}
	if p.Identifier == "" {
		return ""
	}
	return postingID(p)
}

// postingID names a posting across its versions. With the sender's
// identifier, the id depends only on who sent it and that identifier, so an
// edited posting keeps its id while its fingerprint changes; without one, the
// content is all there is to go on.
func postingID(p Posting) string {
	if p.Identifier == "" {
		return p.Fingerprint
	}
	h := sha256.New()
	f := fingerprinter{h: h}
	f.text(p.Employer)
	f.text(p.Identifier)
	f.flush()
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
