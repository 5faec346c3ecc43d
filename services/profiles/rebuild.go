package profiles

import (
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/projection"
)

// Rebuild subjects: the profiles service owns its projection's rebuild
// (`clerkpath rebuild profiles` asks it). Both take an empty body and reply
// with a projection.Status; rebuild starts a build unless one is running.
const (
	SubjectRebuild       = "svc.profiles.rebuild"
	SubjectRebuildStatus = "svc.profiles.rebuild.status"
)

func (s *Service) openProjection(p *platform.Platform, opts projection.Options) {
	s.proj = projection.New(p.Redis, p.JS, p.Log, s.projectionSpec(), opts)
	s.store = &store{rdb: p.Redis, proj: s.proj}
}
