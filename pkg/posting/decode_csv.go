package posting

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// CSVHeader is the documented CSV header: the plain-shape field names, in
// the order of the template we give employers. Columns may come in any order,
// and employment_type and applicant_locations may hold several values
// separated by ";" or "|". Extra columns (employer_url, applicant_locations)
// are accepted too; other unknown columns must be mapped or dropped with
// DecodeOptions.Columns.
const CSVHeader = "title,description,employer,identifier,url,date_posted,valid_through,postal_code,locality,region,country,latitude,longitude,work_mode,employment_type,salary_min,salary_max,salary_unit,currency,education,experience_months,experience_in_lieu_of_education,occupational_category"

// decodeCSV reads a CSV file with a header row. Quoting errors fail the whole
// file (a reader cannot find the next record reliably after one); a row with
// the wrong number of cells or a bad value is a RecordError.
func decodeCSV(body []byte, mapping map[string]string) (Batch, error) {
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return Batch{}, csvError(err)
	}
	cols, err := csvColumns(header, mapping)
	if err != nil {
		return Batch{}, err
	}
	var b Batch
	for i := 0; ; i++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return Batch{}, csvError(err)
		}
		if i == MaxRecords {
			return Batch{}, tooManyRecords()
		}
		line, _ := cr.FieldPos(0)
		b.add(csvRecord(rec, cols, i, line))
	}
}

func csvRecord(rec, cols []string, i, line int) (Raw, RecordError) {
	r := Raw{Index: i, Line: line}
	prefix := recordPrefix(i)
	var fs apierr.Fields
	if len(rec) != len(cols) {
		fs.Add(fmt.Sprintf("records[%d]", i), "line %d has %d cells, the header has %d", line, len(rec), len(cols))
		return r, RecordError{Index: i, Line: line, Fields: fs}
	}
	for c, name := range cols {
		if name == "" {
			continue
		}
		vals := []string{rec[c]}
		if isListField(name) {
			vals = strings.FieldsFunc(rec[c], func(r rune) bool { return r == ';' || r == '|' })
		}
		if err := r.set(name, vals); err != nil {
			fs.Add(prefix+name, "%s", err.Error())
		}
	}
	checkSizes(&r, prefix, &fs)
	return r, RecordError{Index: i, Line: line, Fields: fs}
}

// csvColumns resolves the header to plain-shape field names ("" for a
// dropped column), refusing unknown, repeated and missing columns with one
// error that lists them all.
func csvColumns(header []string, mapping map[string]string) ([]string, error) {
	m := make(map[string]string, len(mapping))
	var fs apierr.Fields
	for from, to := range mapping {
		to = columnKey(to)
		if to != "-" && (&Raw{}).set(to, nil) != nil {
			fs.Add("columns."+from, "maps to %q, which is not a posting field", clip(to))
		}
		m[columnKey(from)] = to
	}
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for c, h := range header {
		key := columnKey(h)
		name, mapped := m[key]
		if !mapped {
			name = key
		}
		if name == "-" {
			continue
		}
		if (&Raw{}).set(name, nil) != nil {
			fs.Add(fmt.Sprintf("header[%d]", c), "unknown column %q; map it to a posting field or to \"-\" with the column mapping", clip(h))
			continue
		}
		if seen[name] {
			fs.Add(fmt.Sprintf("header[%d]", c), "column %q repeats %s", clip(h), name)
			continue
		}
		seen[name] = true
		cols[c] = name
	}
	// Without these no row could pass Normalize, so the file is refused at
	// once rather than row by row.
	for _, want := range [...]string{"title", "description", "employer", "date_posted"} {
		if !seen[want] {
			fs.Add("header", "missing column %s", want)
		}
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	return slices.Clip(cols), nil
}

// columnKey compares header names the way people write them: "Date Posted",
// "date-posted" and "DATE_POSTED" are one column.
func columnKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "-" {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, s)
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return bodyError("malformed CSV at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	}
	if errors.Is(err, io.EOF) {
		return bodyError("empty CSV; want a header row")
	}
	return fmt.Errorf("decode postings: csv: %w", err)
}
