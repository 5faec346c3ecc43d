package posting

import (
	"fmt"
	"testing"
)

func TestDumpLabelled(t *testing.T) {
	z := testZCTA(t)
	for _, lp := range loadLabelled(t) {
		p := normalizeLabelled(t, lp, z)
		fmt.Printf("%-45s role=%s soc=%s mode=%s edu=%s exp=%d lieu=%v hr=%.2f-%.2f yr=%.0f-%.0f loc=%v/%v\n   req=%v pref=%v elig=%v\n   codes=%v ehr=%v enc=%v\n   skills=%v\n",
			lp.name, p.Role, p.SOCCode, p.WorkMode, p.EducationMin, p.ExperienceMonthsMin, p.ExperienceInLieuOfEducation,
			p.SalaryHourlyMin, p.SalaryHourlyMax, p.SalaryAnnualMin, p.SalaryAnnualMax, p.Location.PostalCode, p.Location.Lat != nil,
			p.CredentialsRequired, p.CredentialsPreferred, p.CredentialsOrEligible, p.CodeSets, p.EHRSystems, p.Encoders, p.Skills)
	}
}
