package gateway

import (
	"net/http"

	"github.com/clerkpath/clerkpath/pkg/auth"
)

// guard authenticates the caller (when a token is sent, also on public
// routes, so that a bad token is never silently ignored), then authorizes
// the call with the route's rule, then runs the handler.
func (s *server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx := auth.WithPrincipal(r.Context(), p)
		r = r.WithContext(ctx)
		if err := s.authorize(ctx, p, r, rt.access); err != nil {
			s.writeError(w, r, err)
			return
		}
		rt.handler.ServeHTTP(w, r)
	})
}

func (s *server) authenticate(r *http.Request) (auth.Principal, error) {
	token, present, err := auth.FromRequest(r)
	if err != nil {
		return auth.Principal{}, err
	}
	if !present {
		return auth.Principal{}, nil
	}
	return s.verifier.Verify(token)
}
