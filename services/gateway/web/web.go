// Package web is clerkpath's console: plain HTML, CSS and JavaScript
// modules embedded in the binary and served by the gateway at /app/, built
// on the public API and nothing else (docs/console.md).
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var files embed.FS

// Prefix is where the console is served.
const Prefix = "/app/"

// contentSecurityPolicy allows only the console's own files and calls to
// its own origin: no inline script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the console's files under Prefix with a strict
// Content-Security-Policy. The files never change within one binary, so
// browsers revalidate them rather than cache them blindly (no-cache keeps a
// new release from mixing with the old one's modules).
func Handler() http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic("web: embedded files missing: " + err.Error()) // a build error, caught by the package's tests
	}
	fileServer := http.StripPrefix(Prefix, http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}

// RedirectToConsole sends a browser that opens the bare host to the console.
func RedirectToConsole() http.Handler {
	return http.RedirectHandler(Prefix, http.StatusFound)
}
