package postingindex

import "testing"

// The owner's posting stands for its cluster, then the freshest; every
// member gets the cluster's size, owner and first-seen date, and settling
// again changes nothing.
func TestSettleShowsOnePostingPerCluster(t *testing.T) {
	day := int64(86400)
	ms := []Member{
		{ID: "h1", Cluster: "h1", EmployerID: "hospital", Posted: 10 * day},
		{ID: "a1", Cluster: "h1", EmployerID: "agency", Posted: 12 * day},
		{ID: "a2", Cluster: "h1", EmployerID: "agency", Posted: 11 * day},
	}
	changes := settle("h1", ms)
	if len(changes) != 3 {
		t.Fatalf("changes %v", changes)
	}
	for i, c := range changes {
		hidden := c[FieldClusterHidden].(bool)
		if hidden != (ms[i].ID != "h1") || c[FieldClusterSize] != 3 || c[FieldClusterOwner] != "hospital" || c[FieldClusterFirstSeen] != 10*day || c[FieldClusterReposts] != 0 {
			t.Errorf("%s: %v", ms[i].ID, c)
		}
		ms[i].Hidden, ms[i].Size, ms[i].Owner, ms[i].FirstSeen, ms[i].Reposts = hidden, 3, "hospital", 10*day, 0
	}
	if again := settle("h1", ms); len(again) != 0 {
		t.Fatalf("settling a settled cluster: %v", again)
	}
	// The hospital's posting closes: the freshest agency posting stands,
	// and the cluster keeps its owner and first-seen date.
	rest := ms[1:]
	changes = settle("h1", rest)
	if len(changes) != 2 || changes[0][FieldClusterHidden] != false || changes[1][FieldClusterHidden] != true ||
		changes[0][FieldClusterFirstSeen] != 10*day || changes[0][FieldClusterSize] != 2 || changes[0][FieldClusterReposts] != 1 {
		t.Fatalf("after the owner's posting closed: %v", changes)
	}
}
