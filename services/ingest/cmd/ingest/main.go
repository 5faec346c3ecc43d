// Command ingest runs the job-ingestion service alone against external NATS.
package main

import (
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/services/ingest"
)

func main() { platform.Main(ingest.Name, platform.Needs{Redis: true}, ingest.Run) }
