// Command credentials runs the credentials service alone against external servers.
package main

import (
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/services/credentials"
)

func main() { platform.Main(credentials.Name, platform.Needs{Redis: true}, credentials.Run) }
