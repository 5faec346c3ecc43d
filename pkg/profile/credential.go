package profile

// CredentialRecord is a credential a seeker holds.
type CredentialRecord struct {
	Code       string `json:"code"`
	EarnedOn   string `json:"earned_on"` // YYYY-MM-DD, the exam date
	Apprentice bool   `json:"apprentice,omitempty"`
	// MembershipRenewal is, for AAPC credentials, the next AAPC membership
	// renewal date (YYYY-MM-DD): CEUs fall due on it. Recording the
	// credential again with a new date updates it.
	MembershipRenewal string `json:"membership_renewal,omitempty"`
}

// CEURecord is continuing education a seeker logged toward a credential's
// renewal.
type CEURecord struct {
	Code  string  `json:"code"`
	Hours float64 `json:"hours"`
	// Provider is who gave the education: the credential's issuer code
	// (AHIMA counts its component associations and HCPro) or "other";
	// empty when unknown. AHIMA asks 40% of a cycle's CEUs from itself.
	Provider string `json:"provider,omitempty"`
	// SelfReview is kept for records made before 2021 and ignored: AHIMA
	// discontinued the coding self-review on 1 January 2021.
	SelfReview bool   `json:"self_review,omitempty"`
	On         string `json:"on"` // YYYY-MM-DD
}

// CredentialChange is the body of a credentials.* event about a seeker,
// sealed with the seeker's key (pkg/shred) like every event about a seeker:
// deleting the seeker shreds their credential history too.
type CredentialChange struct {
	SeekerID   string            `json:"seeker_id"`
	Credential *CredentialRecord `json:"credential,omitempty"` // credentials.earned
	CEU        *CEURecord        `json:"ceu,omitempty"`        // credentials.ceu_logged
	// Expiring is set on credentials.expiring: the issuer whose cycle ends
	// and the cycle's last day.
	Expiring *Expiring `json:"expiring,omitempty"`
}

// Expiring announces that a renewal cycle ends soon.
type Expiring struct {
	Issuer   string `json:"issuer"`
	CycleEnd string `json:"cycle_end"` // YYYY-MM-DD
	DaysLeft int    `json:"days_left"`
}
