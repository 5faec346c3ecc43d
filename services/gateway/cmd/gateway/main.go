// Command gateway runs the HTTP gateway alone against external servers.
package main

import (
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/services/gateway"
)

func main() { platform.Main(gateway.Name, platform.Needs{Redis: true}, gateway.Run) }
