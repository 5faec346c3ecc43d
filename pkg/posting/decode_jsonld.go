package posting

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/geo"
)

// decodeJSONLD reads schema.org JobPosting nodes from one object, an array of
// objects, or an object with an @graph (as job boards and CMS plug-ins emit
// them). Nodes of other types (Organization, Place, WebPage) are not records,
// but postings may point at them by @id. Only the first jobLocation that
// yields a place is kept.
func decodeJSONLD(body []byte) (Batch, error) {
	if err := checkJSON(body); err != nil {
		return Batch{}, err
	}
	var g graph
	if err := eachElement(body, g.add); err != nil {
		return Batch{}, err
	}
	if g.err != nil {
		return Batch{}, g.err
	}
	doc := ldDoc{ids: map[string]ldObject{}}
	for _, n := range g.nodes {
		if id, ok := ldText(n.obj["@id"]); ok && id != "" {
			doc.ids[id] = n.obj
		}
	}
	var b Batch
	for _, n := range g.nodes {
		if !isJobPosting(n.obj) {
			continue
		}
		i := len(b.Records) + len(b.Errors)
		if i == MaxRecords {
			return Batch{}, tooManyRecords()
		}
		b.add(doc.posting(n.obj, i, n.line))
	}
	if len(b.Records)+len(b.Errors) == 0 {
		return Batch{}, bodyError(`no schema.org JobPosting found; want objects with "@type": "JobPosting"`)
	}
	return b, nil
}

// maxLDNodes bounds the nodes of one JSON-LD body: postings and the
// organizations and places they point at.
const maxLDNodes = 4 * MaxRecords

type ldObject = map[string]json.RawMessage

type ldNode struct {
	line int
	obj  ldObject
}

// graph collects the nodes of a JSON-LD document, flattening @graph.
type graph struct {
	nodes []ldNode
	err   error
}

// add adds the object raw (starting on line), or the members of its @graph
// with their own lines.
func (g *graph) add(_ int, line int, raw json.RawMessage) {
	if g.err != nil {
		return
	}
	var obj ldObject
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return // not an object: not a posting, nothing to point at
	}
	if _, ok := obj["@graph"]; !ok {
		if len(g.nodes) == maxLDNodes {
			g.err = apierr.New(apierr.TooLarge, "more than %d JSON-LD nodes in one body; split the batch", maxLDNodes)
			return
		}
		g.nodes = append(g.nodes, ldNode{line: line, obj: obj})
		return
	}
	// Walk the object again with a decoder to learn where each @graph member
	// starts; raw is known to be valid JSON.
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return
		}
		valueAt := valueStart(raw, int(dec.InputOffset()))
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return
		}
		if key != "@graph" {
			continue
		}
		base := line + bytes.Count(raw[:valueAt], []byte("\n"))
		switch {
		case len(v) > 0 && v[0] == '{':
			g.add(0, base, v)
		case len(v) > 0 && v[0] == '[':
			// Members may hold @graphs of their own: flattened.
			if err := eachElement(v, func(_, l int, member json.RawMessage) { g.add(0, base+l-1, member) }); err != nil && g.err == nil {
				g.err = err
			}
		}
	}
}

// valueStart skips the colon and whitespace after an object key.
func valueStart(b []byte, off int) int {
	for off < len(b) && (b[off] == ':' || b[off] == ' ' || b[off] == '\t' || b[off] == '\n' || b[off] == '\r') {
		off++
	}
	return off
}

func isJobPosting(obj ldObject) bool {
	for _, t := range ldTexts(obj["@type"]) {
		if t == "JobPosting" || strings.HasSuffix(t, "/JobPosting") || strings.HasSuffix(t, ":JobPosting") {
			return true
		}
	}
	return false
}

// ldDoc resolves {"@id": …} references between the nodes of one document.
type ldDoc struct {
	ids map[string]ldObject
}

// objects returns the objects of a value that is one object or an array, with
// references to other nodes replaced by the nodes.
func (d ldDoc) objects(v json.RawMessage) []ldObject {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil
	}
	var objs []ldObject
	switch v[0] {
	case '{':
		var o ldObject
		if json.Unmarshal(v, &o) == nil {
			objs = append(objs, o)
		}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(v, &items) == nil {
			for _, it := range items {
				if len(it) > 0 && it[0] == '{' {
					objs = append(objs, d.objects(it)...)
				}
			}
		}
	}
	for i, o := range objs {
		if id, ok := ldText(o["@id"]); ok && len(o) == 1 {
			if full, ok := d.ids[id]; ok {
				objs[i] = full
			}
		}
	}
	return objs
}

// ldText returns the text of a value: a string, a number or boolean as
// written, an object's @value, or the first text of an array.
func ldText(v json.RawMessage) (string, bool) {
	texts := ldTexts(v)
	if len(texts) == 0 {
		return "", false
	}
	return texts[0], true
}

func ldTexts(v json.RawMessage) []string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return []string{strings.TrimSpace(s)}
		}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(v, &items) == nil {
			var out []string
			for _, it := range items {
				out = append(out, ldTexts(it)...)
			}
			return out
		}
	case '{':
		var o ldObject
		if json.Unmarshal(v, &o) == nil {
			if val, ok := o["@value"]; ok {
				return ldTexts(val)
			}
		}
	case 'n':
	default:
		return []string{string(v)}
	}
	return nil
}

// posting maps one JobPosting node to a Raw record. Field paths in errors use
// the schema.org property names the sender wrote.
func (d ldDoc) posting(obj ldObject, i, line int) (Raw, RecordError) {
	r := Raw{Index: i, Line: line}
	prefix := recordPrefix(i)
	var fs apierr.Fields
	text := func(prop string, dst *string) {
		v, ok := obj[prop]
		if !ok || isNull(v) {
			return
		}
		if s, ok := ldText(v); ok {
			*dst = s
		} else {
			fs.Add(prefix+prop, "want text")
		}
	}

	text("title", &r.Title)
	text("description", &r.Description)
	text("datePosted", &r.DatePosted)
	text("validThrough", &r.ValidThrough)
	text("url", &r.URL)

	d.employer(obj, &r, prefix, &fs)
	d.identifier(obj, &r)
	d.locations(obj, &r, prefix, &fs)
	if v, ok := obj["baseSalary"]; ok && !isNull(v) {
		d.salary(v, &r, prefix+"baseSalary", &fs)
	}

	r.EmploymentType = append(r.EmploymentType, ldTexts(obj["employmentType"])...)

	d.requirements(obj, &r, prefix, &fs)
	d.occupation(obj, &r)

	checkSizes(&r, prefix, &fs)
	return r, RecordError{Index: i, Line: line, Fields: fs}
}

// employer takes hiringOrganization: a name, or an Organization with its
// name and sameAs (else url).
func (d ldDoc) employer(obj ldObject, r *Raw, prefix string, fs *apierr.Fields) {
	if v, ok := obj["hiringOrganization"]; ok && !isNull(v) {
		if s, ok := ldText(v); ok {
			r.Employer = s
		} else if orgs := d.objects(v); len(orgs) > 0 {
			r.Employer, _ = ldText(orgs[0]["name"])
			if r.EmployerURL, ok = ldText(orgs[0]["sameAs"]); !ok {
				r.EmployerURL, _ = ldText(orgs[0]["url"])
			}
		} else {
			fs.Add(prefix+"hiringOrganization", "want a name or an Organization")
		}
	}
}

// identifier takes the posting's identifier: text or a PropertyValue's value.
func (d ldDoc) identifier(obj ldObject, r *Raw) {
	if v, ok := obj["identifier"]; ok && !isNull(v) {
		if s, ok := ldText(v); ok {
			r.Identifier = s
		} else if ids := d.objects(v); len(ids) > 0 {
			r.Identifier, _ = ldText(ids[0]["value"])
		}
	}
}

// locations takes where the job is (the first jobLocation with an
// address), whether it is remote, and where applicants may live.
func (d ldDoc) locations(obj ldObject, r *Raw, prefix string, fs *apierr.Fields) {
	for _, place := range d.objects(obj["jobLocation"]) {
		if d.place(place, r, prefix+"jobLocation", fs) {
			break
		}
	}

	for _, t := range ldTexts(obj["jobLocationType"]) {
		if strings.EqualFold(t, "TELECOMMUTE") {
			r.WorkMode = "remote"
		}
	}
	if v, ok := obj["applicantLocationRequirements"]; ok {
		if objs := d.objects(v); len(objs) > 0 {
			for _, o := range objs {
				if name, ok := ldText(o["name"]); ok {
					r.ApplicantLocations = append(r.ApplicantLocations, name)
				}
			}
		} else {
			r.ApplicantLocations = append(r.ApplicantLocations, ldTexts(v)...)
		}
	}
}

// requirements takes the education and experience asked for.
func (d ldDoc) requirements(obj ldObject, r *Raw, prefix string, fs *apierr.Fields) {
	set := func(prop, field string, vals ...string) {
		if err := r.set(field, vals); err != nil {
			fs.Add(prefix+prop, "%s", err.Error())
		}
	}
	if v, ok := obj["educationRequirements"]; ok {
		var parts []string
		if objs := d.objects(v); len(objs) > 0 {
			for _, o := range objs {
				parts = append(parts, ldTexts(o["credentialCategory"])...)
			}
		} else {
			parts = ldTexts(v)
		}
		r.Education = strings.Join(parts, "; ")
	}

	if v, ok := obj["experienceRequirements"]; ok && !isNull(v) {
		if objs := d.objects(v); len(objs) > 0 {
			if m, ok := ldText(objs[0]["monthsOfExperience"]); ok {
				set("experienceRequirements.monthsOfExperience", "experience_months", m)
			}
		} else if s, ok := ldText(v); ok {
			if m, found := experienceMonths(strings.ToLower(s)); found {
				set("experienceRequirements", "experience_months", strconv.Itoa(m))
			}
		}
	}
	if v, ok := ldText(obj["experienceInPlaceOfEducation"]); ok {
		set("experienceInPlaceOfEducation", "experience_in_lieu_of_education", v)
	}
}

// occupation takes occupationalCategory: text, or a CategoryCode's
// codeValue (else name).
func (d ldDoc) occupation(obj ldObject, r *Raw) {
	if v, ok := obj["occupationalCategory"]; ok && !isNull(v) {
		if s, ok := ldText(v); ok {
			r.OccupationalCategory = s
		} else if objs := d.objects(v); len(objs) > 0 {
			if r.OccupationalCategory, ok = ldText(objs[0]["codeValue"]); !ok {
				r.OccupationalCategory, _ = ldText(objs[0]["name"])
			}
		}
	}
}

// place fills r's location from a Place (or a bare PostalAddress) and reports
// whether it found anything.
func (d ldDoc) place(place ldObject, r *Raw, path string, fs *apierr.Fields) bool {
	addr := place
	if v, ok := place["address"]; ok {
		if objs := d.objects(v); len(objs) > 0 {
			addr = objs[0]
		} else if s, ok := ldText(v); ok {
			textAddress(s, r)
		}
	}
	for prop, dst := range map[string]*string{"postalCode": &r.PostalCode, "addressLocality": &r.Locality, "addressRegion": &r.Region} {
		if s, ok := ldText(addr[prop]); ok {
			*dst = s
		}
	}
	if s, ok := ldText(addr["addressCountry"]); ok {
		r.Country = s
	} else if cs := d.objects(addr["addressCountry"]); len(cs) > 0 {
		r.Country, _ = ldText(cs[0]["name"])
	}
	if geos := d.objects(place["geo"]); len(geos) > 0 {
		for _, c := range [...]struct{ prop, field string }{{"latitude", "latitude"}, {"longitude", "longitude"}} {
			if s, ok := ldText(geos[0][c.prop]); ok {
				if err := r.set(c.field, []string{s}); err != nil {
					fs.Add(path+".geo."+c.prop, "%s", err.Error())
				}
			}
		}
	}
	return r.PostalCode != "" || r.Locality != "" || r.Region != "" || r.Latitude != nil
}

// textAddress reads a free-text address of the usual US form, "Raleigh, NC"
// or "100 Main St, Raleigh, NC 27601": the last part holds the state and
// maybe the ZIP, the one before it the city. Anything else is kept as the
// locality.
func textAddress(s string, r *Raw) {
	parts := strings.Split(s, ",")
	if len(parts) < 2 {
		r.Locality = strings.TrimSpace(s)
		return
	}
	last := strings.Fields(parts[len(parts)-1])
	if len(last) == 0 || len(last) > 2 {
		r.Locality = strings.TrimSpace(s)
		return
	}
	if _, ok := geo.StateCode(last[0]); !ok {
		r.Locality = strings.TrimSpace(s)
		return
	}
	r.Region = last[0]
	if len(last) == 2 {
		r.PostalCode = last[1]
	}
	r.Locality = strings.TrimSpace(parts[len(parts)-2])
}

// salary reads a MonetaryAmount whose value is a number or a
// QuantitativeValue with value or minValue/maxValue and unitText.
func (d ldDoc) salary(v json.RawMessage, r *Raw, path string, fs *apierr.Fields) {
	set := func(prop, field, s string) {
		if err := r.set(field, []string{s}); err != nil {
			fs.Add(path+prop, "%s", err.Error())
		}
	}
	amounts := d.objects(v)
	if len(amounts) == 0 {
		if s, ok := ldText(v); ok {
			set("", "salary_min", s)
			r.SalaryMax = r.SalaryMin
			return
		}
		fs.Add(path, "want a MonetaryAmount")
		return
	}
	m := amounts[0]
	r.Currency, _ = ldText(m["currency"])
	r.SalaryUnit, _ = ldText(m["unitText"])
	// One figure is both ends of the range.
	exact := func(prop, s string) {
		set(prop, "salary_min", s)
		r.SalaryMax = r.SalaryMin
	}
	if s, ok := ldText(m["value"]); ok {
		exact(".value", s)
		return
	}
	qvs := d.objects(m["value"])
	if len(qvs) == 0 {
		if _, ok := m["value"]; ok {
			fs.Add(path+".value", "want a number or a QuantitativeValue")
		}
		return
	}
	q := qvs[0]
	if s, ok := ldText(q["unitText"]); ok {
		r.SalaryUnit = s
	}
	if s, ok := ldText(q["value"]); ok {
		exact(".value.value", s)
	}
	if s, ok := ldText(q["minValue"]); ok {
		set(".value.minValue", "salary_min", s)
	}
	if s, ok := ldText(q["maxValue"]); ok {
		set(".value.maxValue", "salary_max", s)
	}
}

func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}
