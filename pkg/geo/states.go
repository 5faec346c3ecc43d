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

// stateCodeList holds every code stateName knows.
const stateCodeList = "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP"

func stateName(code string) (string, bool) {
	switch code {
	case "AL":
		return "Alabama", true
	case "AK":
		return "Alaska", true
	case "AZ":
		return "Arizona", true
	case "AR":
		return "Arkansas", true
	case "CA":
		return "California", true
	case "CO":
		return "Colorado", true
	case "CT":
		return "Connecticut", true
	case "DE":
		return "Delaware", true
	case "DC":
		return "District of Columbia", true
	case "FL":
		return "Florida", true
	case "GA":
		return "Georgia", true
	case "HI":
		return "Hawaii", true
	case "ID":
		return "Idaho", true
	case "IL":
		return "Illinois", true
	case "IN":
		return "Indiana", true
	case "IA":
		return "Iowa", true
	case "KS":
		return "Kansas", true
	case "KY":
		return "Kentucky", true
	case "LA":
		return "Louisiana", true
	case "ME":
		return "Maine", true
	case "MD":
		return "Maryland", true
	case "MA":
		return "Massachusetts", true
	case "MI":
		return "Michigan", true
	case "MN":
		return "Minnesota", true
	case "MS":
		return "Mississippi", true
	case "MO":
		return "Missouri", true
	case "MT":
		return "Montana", true
	case "NE":
		return "Nebraska", true
	case "NV":
		return "Nevada", true
	case "NH":
		return "New Hampshire", true
	case "NJ":
		return "New Jersey", true
	case "NM":
		return "New Mexico", true
	case "NY":
		return "New York", true
	case "NC":
		return "North Carolina", true
	case "ND":
		return "North Dakota", true
	case "OH":
		return "Ohio", true
	case "OK":
		return "Oklahoma", true
	case "OR":
		return "Oregon", true
	case "PA":
		return "Pennsylvania", true
	case "RI":
		return "Rhode Island", true
	case "SC":
		return "South Carolina", true
	case "SD":
		return "South Dakota", true
	case "TN":
		return "Tennessee", true
	case "TX":
		return "Texas", true
	case "UT":
		return "Utah", true
	case "VT":
		return "Vermont", true
	case "VA":
		return "Virginia", true
	case "WA":
		return "Washington", true
	case "WV":
		return "West Virginia", true
	case "WI":
		return "Wisconsin", true
	case "WY":
		return "Wyoming", true
	case "PR":
		return "Puerto Rico", true
	case "GU":
		return "Guam", true
	case "VI":
		return "U.S. Virgin Islands", true
	case "AS":
		return "American Samoa", true
	case "MP":
		return "Northern Mariana Islands", true
	}
	return "", false
}
