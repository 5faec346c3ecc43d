// Package credentials is the credentials service: it owns the credential
// catalog and the pathway engine, and seekers' credential records.
package credentials

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/micro"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "credentials"
	Version = "0.1.0"
)

// Request/reply subjects.
const (
	SubjectCatalog    = "svc.credentials.catalog"
	SubjectCredential = "svc.credentials.credential"
)

// Service holds the credentials service's dependencies.
type Service struct {
	p   *platform.Platform
	cat *pathway.Catalog
}

// Run loads and validates the catalog (a bad catalog stops the start), then
// serves until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	s := &Service{p: p, cat: cat}
	svc, err := micro.AddService(p.NC, micro.Config{Name: Name, Version: Version, Description: "credential catalog, pathway plans, credential records and CEUs"})
	if err != nil {
		return fmt.Errorf("credentials: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	for _, ep := range []struct {
		name, subject string
		fn            rpc.Func
	}{
		{"catalog", SubjectCatalog, s.catalog},
		{"credential", SubjectCredential, s.credential},
	} {
		if err := svc.AddEndpoint(ep.name, rpc.Handler(p.Log, p.Config.RequestTimeout, ep.fn), micro.WithEndpointSubject(ep.subject)); err != nil {
			return fmt.Errorf("credentials: add endpoint %s: %w", ep.name, err)
		}
	}
	p.Log.Info().Str("catalog_version", cat.Version).Int("credentials", len(cat.Credentials)).Msg("credentials ready")
	<-ctx.Done()
	return nil
}

// CatalogSummary lists the credentials of the catalog.
type CatalogSummary struct {
	Version     string               `json:"version"`
	Credentials []pathway.Credential `json:"credentials"`
	Education   []pathway.Program    `json:"education"`
	Trainings   []pathway.Training   `json:"trainings"`
	Issuers     []pathway.Issuer     `json:"issuers"`
	Sources     []pathway.Source     `json:"sources"`
}

func (s *Service) catalog(ctx context.Context, r rpc.Request) (any, error) {
	return CatalogSummary{
		Version:     s.cat.Version,
		Credentials: s.cat.Credentials,
		Education:   s.cat.Education,
		Trainings:   s.cat.Trainings,
		Issuers:     s.cat.Issuers,
		Sources:     s.cat.Sources,
	}, nil
}

func (s *Service) credential(ctx context.Context, r rpc.Request) (any, error) {
	var req struct {
		Code string `json:"code"`
	}
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	c := s.cat.Credential(strings.ToUpper(strings.TrimSpace(req.Code)))
	if c == nil {
		codes := make([]string, 0, len(s.cat.Credentials))
		for _, c := range s.cat.Credentials {
			codes = append(codes, c.Code)
		}
		sort.Strings(codes)
		return nil, apierr.New(apierr.NotFound, "no credential %q; known codes: %s", req.Code, strings.Join(codes, ", "))
	}
	return c, nil
}
