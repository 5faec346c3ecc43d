// Command notifications runs the notifications service alone against external servers.
package main

import (
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/services/notifications"
)

func main() {
	platform.Main(notifications.Name, platform.Needs{Redis: true}, notifications.Run)
}
