package auth

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

func TestFromRequest(t *testing.T) {
	const tok = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2ln"
	cases := []struct {
		name        string
		headers     []string // Authorization values; nil means none
		wantToken   string
		wantPresent bool
		wantErr     bool
	}{
		{"absent", nil, "", false, false},
		{"bearer", []string{"Bearer " + tok}, tok, true, false},
		{"scheme is case-insensitive", []string{"bearer " + tok}, tok, true, false},
		{"extra spaces before token", []string{"Bearer   " + tok}, tok, true, false},
		{"b64token padding", []string{"Bearer abc+/~_-.=="}, "abc+/~_-.==", true, false},
		{"empty value", []string{""}, "", true, true},
		{"scheme only", []string{"Bearer"}, "", true, true},
		{"scheme and space", []string{"Bearer "}, "", true, true},
		{"basic auth", []string{"Basic dXNlcjpwYXNz"}, "", true, true},
		{"no scheme", []string{tok}, "", true, true},
		{"token with space", []string{"Bearer abc def"}, "", true, true},
		{"token with comma", []string{"Bearer abc,def"}, "", true, true},
		{"only padding", []string{"Bearer =="}, "", true, true},
		{"padding in the middle", []string{"Bearer ab=cd"}, "", true, true},
		{"two headers", []string{"Bearer " + tok, "Bearer " + tok}, "", true, true},
		{"too long", []string{"Bearer " + strings.Repeat("a", maxTokenLen+1)}, "", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/me", nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			got, present, err := FromRequest(r)
			if got != tc.wantToken || present != tc.wantPresent || (err != nil) != tc.wantErr {
				t.Fatalf("FromRequest = %q, %v, %v; want %q, %v, err %v", got, present, err, tc.wantToken, tc.wantPresent, tc.wantErr)
			}
			if err != nil && apierr.CodeOf(err) != apierr.Unauthenticated {
				t.Fatalf("error code %q; want unauthenticated", apierr.CodeOf(err))
			}
		})
	}
}
