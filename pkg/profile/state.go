package profile

import "github.com/clerkpath/clerkpath/pkg/pathway"

// PathwayState is the seeker as the pathway engine sees them: their
// education, experience and trainings from the profile, and the credentials
// and CEUs they recorded.
func PathwayState(sk Seeker, creds []CredentialRecord, ceus []CEURecord) pathway.State {
	st := pathway.State{Trainings: append([]string(nil), sk.Trainings...), Target: sk.Target}
	for _, e := range sk.Education {
		st.Education = append(st.Education, pathway.Education{Level: e.Level, Field: e.Field, CAHIIM: e.CAHIIMAccredited, Status: e.Status})
	}
	for _, e := range sk.Experience {
		st.Experience = append(st.Experience, pathway.Experience{Area: e.Area, Months: e.Months})
	}
	for _, c := range creds {
		st.Credentials = append(st.Credentials, pathway.HeldCredential{Code: c.Code, EarnedOn: c.EarnedOn, Apprentice: c.Apprentice, MembershipRenewal: c.MembershipRenewal})
	}
	for _, c := range ceus {
		st.CEUs = append(st.CEUs, pathway.CEU{Code: c.Code, Hours: c.Hours, Provider: c.Provider, SelfReview: c.SelfReview, On: c.On})
	}
	return st
}

// EducationRank is the seeker's highest completed education: 0 none,
// 1 high school, 2 certificate, 3 associate, 4 bachelor, 5 master (the
// ranks of posting.Education).
func (sk Seeker) EducationRank() int {
	best := 0
	for _, e := range sk.Education {
		if e.Status != "completed" {
			continue
		}
		for i, l := range EducationLevels {
			if l == e.Level && i+1 > best {
				best = i + 1
			}
		}
	}
	return best
}

// ExperienceMonths is the seeker's experience in all areas together.
func (sk Seeker) ExperienceMonths() int {
	n := 0
	for _, e := range sk.Experience {
		n += e.Months
	}
	return n
}
