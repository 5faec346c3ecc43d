package geo

import "strings"

// StateCode returns the two-letter USPS code of a US state, the District of
// Columbia or a territory, given the code in any case or the full name
// ("ca", "California", "District of Columbia").
func StateCode(s string) (string, bool) {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	s = strings.TrimSuffix(s, ".")
	if len(s) == 2 {
		code := strings.ToUpper(s)
		if _, ok := stateName(code); ok {
			return code, true
		}
		return "", false
	}
	for code := range strings.FieldsSeq(stateCodeList) {
		if name, _ := stateName(code); strings.ToLower(name) == s {
			return code, true
		}
	}
	return "", false
}

// stateCodeList holds every code of stateNames, in a fixed order for the
// name lookup (TestStateCode checks that the two agree).
const stateCodeList = "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP"

// stateName returns the name of a USPS code ("CA": "California").
func stateName(code string) (string, bool) {
	name, ok := stateNames[code]
	return name, ok
}

// stateNames maps each USPS code to its name: the 50 states, DC and the
// five inhabited territories.
var stateNames = map[string]string{
	"AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
	"CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida",
	"GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana",
	"IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine",
	"MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
	"MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire",
	"NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota",
	"OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island",
	"SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah",
	"VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
	"WY": "Wyoming", "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands", "AS": "American Samoa",
	"MP": "Northern Mariana Islands",
}
