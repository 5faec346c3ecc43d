package pathway

import "testing"

// benchState exercises every part of a plan: education, held credentials
// with renewal cycles and an apprenticeship, experience, trainings, CEUs,
// a target with limits, and market demand.
func benchState() (State, Options) {
	st := State{
		Education:   []Education{highSchool(), edu(LevelAssociate, FieldHIM, false, StatusCompleted)},
		Credentials: []HeldCredential{{Code: "CCA", EarnedOn: "2022-04-01"}, {Code: "CPC", EarnedOn: "2024-01-15", Apprentice: true}},
		Experience:  []Experience{exp(AreaCoding, 10), exp(AreaPrivacySecurity, 18), exp(AreaRecords, 6)},
		Trainings:   []string{"practicode"},
		CEUs:        []CEU{{Code: "CCA", Hours: 10, On: "2023-01-10"}, {Code: "CCA", Hours: 5, SelfReview: true, On: "2024-02-01"}},
		Target:      "RHIA",
		MaxMonths:   60,
	}
	opt := Options{Today: date(testToday), Demand: Demand{
		Credentials: map[string]CredentialDemand{
			"RHIT": {Postings: 37, MedianHourly: 24.10}, "RHIA": {Postings: 12, MedianHourly: 33},
			"CCS": {Postings: 21, MedianHourly: 27}, "CPC": {Postings: 44, MedianHourly: 23}, "CHPS": {Postings: 4, MedianHourly: 35},
		},
		RadiusMiles: 25, QualifiedMedianHourly: 19.80,
	}}
	return st, opt
}

// BenchmarkRecommend is a full plan with a target over the whole catalog.
func BenchmarkRecommend(b *testing.B) {
	cat := mustCatalog(b)
	st, opt := benchState()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Recommend(cat, st, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDefaultCatalog(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DefaultCatalog(); err != nil {
			b.Fatal(err)
		}
	}
}
