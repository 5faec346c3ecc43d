package contract

import (
	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/gatewayapi"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Service is one service's contract.
type Service struct {
	Name      string
	Package   string // the contract package's import path, relative to pkg/contract
	Endpoints []rpc.Spec
	Topics    []events.TopicSpec
}

// Services lists every service's contract, in a fixed order.
func Services() []Service {
	return []Service{
		{"profiles", "profilesapi", profilesapi.Endpoints(), profilesapi.Topics()},
		{"credentials", "credentialsapi", credentialsapi.Endpoints(), credentialsapi.Topics()},
		{"ingest", "ingestapi", ingestapi.Endpoints(), ingestapi.Topics()},
		{"matching", "matchingapi", matchingapi.Endpoints(), matchingapi.Topics()},
		{"notifications", "notificationsapi", notificationsapi.Endpoints(), notificationsapi.Topics()},
		{"gateway", "gatewayapi", gatewayapi.Endpoints(), gatewayapi.Topics()},
	}
}
