package gateway

import (
	_ "embed"
	"net/http"
)

// The OpenAPI 3.1 document of the API is written by hand and checked
// against the route table by openapi_test.go. docs/openapi.json is a copy
// for readers and for the client generator (cmd/clerkpath/apiclient); the
// test fails when the two differ.
//
//go:generate cp openapi.json ../../docs/openapi.json

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3.1 document served at /openapi.json.
func OpenAPIDocument() []byte {
	return append([]byte(nil), openAPIDocument...)
}

func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeRawJSON(w, http.StatusOK, openAPIDocument)
	})
}
