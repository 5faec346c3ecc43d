package posting

// Limits on what Decode and Normalize accept. They are chosen so that one
// request cannot make a service allocate more than a small multiple of
// MaxBodyBytes, and so that a hostile body fails fast with a clear error.
const (
	// MaxBodyBytes bounds a request body. Decode reads at most this much
	// (plus one byte to detect overflow) before parsing anything.
	MaxBodyBytes = 16 << 20

	// MaxRecords bounds the postings in one batch; a larger batch is
	// refused as a whole (apierr.TooLarge) so the sender splits it.
	MaxRecords = 1000

	// MaxJSONDepth bounds nesting in JSON and JSON-LD. A JobPosting needs
	// about six levels (@graph > posting > jobLocation > Place > address);
	// the rest is headroom. Depth is checked on the raw bytes before any
	// decoding, so "[[[[…" cannot exhaust the stack.
	MaxJSONDepth = 32

	// MaxDescriptionBytes bounds a description as sent, HTML included. Long
	// hospital postings run to about 15 KiB of HTML.
	MaxDescriptionBytes = 64 << 10

	// MaxTitleBytes, MaxNameBytes and MaxURLBytes bound the short fields.
	MaxTitleBytes = 300
	MaxNameBytes  = 300
	MaxURLBytes   = 2048

	// MaxShortFieldBytes bounds identifiers, codes, places and units.
	MaxShortFieldBytes = 200

	// MaxListItems bounds list fields (employment types, applicant
	// locations).
	MaxListItems = 20
)

// Salary sanity bounds, in US dollars per hour after converting the sender's
// unit. The federal minimum wage is $7.25; $500 an hour is far above any HIM
// role, so a figure outside the range is almost always a unit mistake
// (an annual salary sent with unitText HOUR, or cents for dollars).
const (
	MinHourlyWage = 7.0
	MaxHourlyWage = 500.0

	// HoursPerYear converts between hourly and annual pay: 52 weeks of 40
	// hours, the convention US employers and BLS use.
	HoursPerYear = 2080
)

// DefaultStaleAfterDays is how long a posting without validThrough stays
// open when NormalizeOptions.StaleAfterDays is zero. Most US job boards
// expire postings after 30 to 60 days.
const DefaultStaleAfterDays = 60
