package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
)

// Ports of `clerkpath run --cluster`'s three nats-servers: clients on
// 4222-4224, routes on 6222-6224.
const (
	clusterClientPort = 4222
	clusterRoutePort  = 6222
	clusterCopies     = 2
)

// localCluster is what `clerkpath run --cluster` starts: three clustered
// nats-servers with JetStream (sync always) under dir.
type localCluster struct {
	servers []*server.Server
}

func (c *localCluster) stop() {
	for _, ns := range c.servers {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
}

// startLocalCluster starts three nats-servers on loopback, clients on
// clientPort+i and routes on routePort+i, and waits until JetStream has a
// leader.
func startLocalCluster(ctx context.Context, dir string, clientPort, routePort int, log zerolog.Logger) (*localCluster, error) {
	c := &localCluster{}
	for i := range 3 {
		var routes []string
		for j := range 3 {
			if j != i {
				routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(routePort+j))
			}
		}
		store := filepath.Join(dir, fmt.Sprintf("nats-%d", i))
		if err := os.MkdirAll(store, 0o750); err != nil {
			c.stop()
			return nil, err
		}
		ns, err := natsserver.Start(natsserver.Options{
			Name: fmt.Sprintf("nats-%d", i), Port: clientPort + i, StoreDir: store, SyncAlways: true,
			Cluster: natsserver.ClusterOptions{Name: "clerkpath-local", Port: routePort + i, Routes: routes},
		})
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("nats-server %d of 3 (ports %d, %d taken?): %w", i+1, clientPort+i, routePort+i, err)
		}
		c.servers = append(c.servers, ns)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		leader := false
		for _, ns := range c.servers {
			leader = leader || (ns.JetStreamIsLeader() && ns.NumRoutes() >= 2)
		}
		if leader {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.stop()
			return nil, errors.New("the three nats-servers did not elect a JetStream leader within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Info().Str("dir", dir).Int("client_ports_from", clientPort).Int("route_ports_from", routePort).Msg("three clustered nats-servers with JetStream (sync always)")
	return c, nil
}

// runCluster runs the backend the way production runs it, on one machine:
// three nats-servers, streams at R3, two copies of every service (copy i
// connected to node i, each service on its own connections), gateways on
// lns[0] and lns[1]. Redis and Meilisearch are started as for `run` unless
// configured. Data lives under $CLERKPATH_DATA_DIR/cluster, apart from
// `run`'s single-node data.
func runCluster(ctx context.Context, cfg config.Config, log zerolog.Logger, env environment, lns [clusterCopies]net.Listener, clientPort, routePort int) error {
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	if cfg.NATSURL != "" {
		return fmt.Errorf("--cluster starts its own nats-servers: unset %s", config.EnvNATSURL)
	}
	cfg.DataDir = filepath.Join(cfg.DataDir, "cluster")
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	cl, err := startLocalCluster(ctx, dir, clientPort, routePort, log)
	if err != nil {
		return err
	}
	defer cl.stop()
	var urls []string
	for _, ns := range cl.servers {
		urls = append(urls, ns.ClientURL())
	}
	cfg.NATSURL = urls[0] // keeps startInfra from starting a nats-server
	cfg.StreamReplicas = 3
	infra, err := startInfra(ctx, &cfg, env.getenv, log)
	if err != nil {
		return err
	}
	defer infra.stop()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	for i, ln := range lns {
		copyCfg := cfg
		// Copy i prefers node i and fails over to the others.
		copyCfg.NATSURL = strings.Join(append([]string{urls[i]}, append(append([]string{}, urls[:i]...), urls[i+1:]...)...), ",")
		g.Go(func() error {
			if err := runServices(ctx, copyCfg, log, env, ln); err != nil {
				return fmt.Errorf("copy %d: %w", i+1, err)
			}
			return nil
		})
		if i == 0 {
			// The first copy creates the streams; the second starts once
			// its gateway is ready, so that the two do not race to.
			if err := waitReady(ctx, "http://"+ln.Addr().String()+"/readyz", 90*time.Second); err != nil {
				cancel()
				return errors.Join(err, g.Wait())
			}
		}
	}
	log.Info().Str("gateway_1", lns[0].Addr().String()).Str("gateway_2", lns[1].Addr().String()).
		Strs("nats", urls).Msg("clerkpath cluster running: three nats-servers, two copies of every service; Ctrl-C stops it")
	return g.Wait()
}

func waitReady(ctx context.Context, url string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %v", url, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// clusterListeners opens the two gateways' listeners: addr and the port
// after it.
func clusterListeners(addr string) ([clusterCopies]net.Listener, error) {
	var lns [clusterCopies]net.Listener
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return lns, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p == 0 {
		return lns, fmt.Errorf("--cluster needs a fixed port in %s (the second gateway takes the next one)", config.EnvHTTPAddr)
	}
	for i := range lns {
		a := net.JoinHostPort(host, strconv.Itoa(p+i))
		if lns[i], err = net.Listen("tcp", a); err != nil {
			for _, ln := range lns[:i] {
				ln.Close()
			}
			return lns, fmt.Errorf("listen on %s (gateway %d): %w", a, i+1, err)
		}
	}
	return lns, nil
}
