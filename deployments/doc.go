// Package deployments holds no code that ships: its tests check the
// deployment files beside it (the NATS cluster configuration, the compose
// file and the Kubernetes manifests) against the binaries' real settings.
// It is its own module so that the Kubernetes API types it decodes with do
// not reach the services' dependencies.
package deployments
