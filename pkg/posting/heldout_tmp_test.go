package posting

import (
	"slices"
	"strings"
	"testing"
)

func TestHeldoutTmp(t *testing.T) {
	z := testZCTA(t)
	tp, fp, fn := 0, 0, 0
	for _, lp := range loadLabelled(t) {
		if !strings.Contains(lp.name, "heldout") {
			continue
		}
		p := normalizeLabelled(t, lp, z)
		got := credentialItems(p.CredentialsRequired, p.CredentialsPreferred, p.CredentialsOrEligible)
		want := credentialItems(lp.Expect.Required, lp.Expect.Preferred, lp.Expect.OrEligible)
		for _, w := range want {
			if slices.Contains(got, w) { tp++ } else { fn++; t.Logf("%s missing %s", lp.name, w) }
		}
		for _, g := range got {
			if !slices.Contains(want, g) { fp++; t.Logf("%s extra %s", lp.name, g) }
		}
	}
	t.Logf("heldout: tp=%d fp=%d fn=%d P=%.3f R=%.3f", tp, fp, fn, float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn))
}
