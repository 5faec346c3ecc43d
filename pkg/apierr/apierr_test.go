package apierr

import (
	"fmt"
	"strings"
	"testing"
)

func TestFieldErrorsSortNumbersAsNumbers(t *testing.T) {
	var fs Fields
	for _, f := range []string{"header[10]", "header[2]", "header[1]", "body", "records[1].title", "records[01].a"} {
		fs.Add(f, "bad")
	}
	var got []string
	for _, f := range fs.Err().(*Error).Fields {
		got = append(got, f.Field)
	}
	want := "body header[1] header[2] header[10] records[01].a records[1].title"
	if strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

func TestFieldErrorsAreBounded(t *testing.T) {
	var fs Fields
	for i := range 40000 {
		fs.Add(fmt.Sprintf("credentials[%d].code", i), "unknown")
	}
	e := fs.Err().(*Error)
	if len(e.Fields) != MaxFieldErrors {
		t.Fatalf("%d field errors, want %d", len(e.Fields), MaxFieldErrors)
	}
	if last := e.Fields[len(e.Fields)-1]; !strings.Contains(last.Message, "39901 more") {
		t.Errorf("last entry %+v, want the count of the rest", last)
	}
	if e.Fields[0].Field != "credentials[0].code" || e.Fields[1].Field != "credentials[1].code" {
		t.Errorf("first entries %+v", e.Fields[:2])
	}
}
