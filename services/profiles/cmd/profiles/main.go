// Command profiles runs the profiles service alone against external servers.
package main

import (
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/services/profiles"
)

func main() { platform.Main(profiles.Name, platform.Needs{Redis: true}, profiles.Run) }
