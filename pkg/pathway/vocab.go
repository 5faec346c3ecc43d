package pathway

// The closed vocabularies of states and catalogs. They are switch-based
// functions rather than package variables so the package holds no state.

// Education levels, lowest first.
const (
	LevelHighSchool  = "high_school"
	LevelCertificate = "certificate"
	LevelAssociate   = "associate"
	LevelBachelor    = "bachelor"
	LevelMaster      = "master"

	levelList = "high_school, certificate, associate, bachelor, master"
)

// levelRank orders education levels; -1 for an unknown level.
func levelRank(level string) int {
	switch level {
	case LevelHighSchool:
		return 0
	case LevelCertificate:
		return 1
	case LevelAssociate:
		return 2
	case LevelBachelor:
		return 3
	case LevelMaster:
		return 4
	}
	return -1
}

func levelName(rank int) string {
	switch rank {
	case 0:
		return "high school diploma or GED"
	case 1:
		return "postsecondary certificate"
	case 2:
		return "associate degree"
	case 3:
		return "bachelor's degree"
	case 4:
		return "master's degree"
	}
	return "education"
}

// Education statuses.
const (
	StatusCompleted  = "completed"
	StatusFinalTerm  = "final_term"
	StatusInProgress = "in_progress"

	statusList = "completed, final_term, in_progress"
)

func statusBit(status string) uint8 {
	switch status {
	case StatusCompleted:
		return 1
	case StatusFinalTerm:
		return 2
	case StatusInProgress:
		return 4
	}
	return 0
}

// Fields of study. HIM covers health information technology and management.
const (
	FieldHIM    = "HIM"
	FieldCoding = "coding"
	FieldOther  = "other"

	fieldList = "HIM, coding, other"
)

func validField(f string) bool { return f == FieldHIM || f == FieldCoding || f == FieldOther }

// Experience areas. AreaAny appears only in catalog rules.
const (
	AreaCoding               = "coding"
	AreaPrivacySecurity      = "privacy_security"
	AreaReleaseOfInformation = "release_of_information"
	AreaRecords              = "records"
	AreaDataAnalysis         = "data_analysis"
	AreaBilling              = "billing"
	AreaAny                  = "any"

	numAreas = 6
	areaList = "coding, privacy_security, release_of_information, records, data_analysis, billing"
)

// areaIndex maps an area to its slot; -1 for "any" or an unknown area.
func areaIndex(area string) int {
	switch area {
	case AreaCoding:
		return 0
	case AreaPrivacySecurity:
		return 1
	case AreaReleaseOfInformation:
		return 2
	case AreaRecords:
		return 3
	case AreaDataAnalysis:
		return 4
	case AreaBilling:
		return 5
	}
	return -1
}

func areaName(i int) string {
	switch i {
	case 0:
		return AreaCoding
	case 1:
		return AreaPrivacySecurity
	case 2:
		return AreaReleaseOfInformation
	case 3:
		return AreaRecords
	case 4:
		return AreaDataAnalysis
	case 5:
		return AreaBilling
	}
	return AreaAny
}

// Optimisation goals for the target plan.
const (
	OptimizeTime = "time"
	OptimizeCost = "cost"
)

// Step kinds.
const (
	KindCredential = "credential"
	KindEducation  = "education"
	KindTraining   = "training"
	KindExperience = "experience"
)

// Limits that keep hostile input from overflowing sums; generous for any
// real career.
const (
	maxMonths    = 1200     // 100 years
	maxCostUSD   = 10000000 // USD
	maxCEUHours  = 1000     // per entry
	maxRuleDepth = 16
	maxItems     = 64 // credentials and trainings are tracked in uint64 sets
)
