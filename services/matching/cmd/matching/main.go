// Command matching runs the matching service alone against external servers.
package main

import (
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/services/matching"
)

func main() { platform.Main(matching.Name, platform.Needs{Redis: true, Meili: true}, matching.Run) }
