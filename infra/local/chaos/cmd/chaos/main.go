// Command chaos runs the chaos test (make chaos) on a DynamoDB Local of its own,
// in memory, and prints as its last line
// chaos: events=<n> deliveries=<m> faults=<f> lost=<l> duplicated=<d>.
// It exits 1 when anything was lost or doubled, 2 when it could not run.
// -hot sends every event to one tenant and reports the write units per partition
// key at 2,000 orders a second.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tribehq/tribe/infra/local/chaos"
	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/shared/envelope"
	"github.com/tribehq/tribe/shared/table"
)

func main() {
	events := flag.Int("events", 10000, "order and refund events")
	tenants := flag.Int("tenants", 20, "tenants")
	hot := flag.Bool("hot", false, "every event to one tenant; report writes per partition key")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	flag.Parse()
	res, err := run(*events, *tenants, *hot, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	fmt.Println(res.Line())
	if res.Lost > 0 || res.Duplicated > 0 || res.Unbalanced > 0 {
		os.Exit(1)
	}
}

func run(events, tenants int, hot bool, seed uint64) (chaos.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "tribe-chaos-")
	if err != nil {
		return chaos.Result{}, err
	}
	defer os.RemoveAll(tmp)
	srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		return chaos.Result{}, err
	}
	defer srv.Stop()
	name := "tribe-chaos"
	arn, err := table.Definition.Create(ctx, dynamolocal.Client(srv.Endpoint), name)
	if err != nil {
		return chaos.Result{}, err
	}
	kek, err := envelope.LoadOrCreateKeyFile(filepath.Join(tmp, "secrets.key"))
	if err != nil {
		return chaos.Result{}, err
	}
	sealer, err := envelope.New(kek)
	if err != nil {
		return chaos.Result{}, err
	}
	if hot {
		tenants = 1
	}
	fmt.Printf("chaos: %d events, %d tenants, seed %d, 5%% DynamoDB faults, 10%% of batches killed, pump restarted every 3 s\n", events, tenants, seed)
	res, err := chaos.Run(ctx, chaos.Config{
		Endpoint: srv.Endpoint, Table: name, StreamARN: arn, DataDir: filepath.Join(tmp, "pump"),
		Events: events, Tenants: tenants, Hot: hot, FaultRate: 0.05, KillRate: 0.1, RestartEvery: 3 * time.Second,
		Seed: seed, Sealer: sealer, Progress: os.Stdout,
	})
	if err != nil {
		return res, err
	}
	fmt.Printf("chaos: reconciler %s; %d DynamoDB faults, %d batches killed, %d pump restarts; members unbalanced %d; %s\n",
		res.Reconciled, res.DynamoFaults, res.Kills, res.Restarts, res.Unbalanced, res.Elapsed.Round(time.Second))
	if hot {
		over := 0
		fmt.Printf("chaos: hot tenant, write units per partition key at %d orders/s (limit %d per key); heaviest first:\n", chaos.PeakOrdersPerSecond, chaos.KeyLimit)
		for i, k := range res.Hot {
			if k.UnitsPerSecond > chaos.KeyLimit {
				over++
			}
			if i < 15 {
				fmt.Printf("chaos:   %-90s writes/order %.3f  WCU/order %.3f  WCU/s %.0f\n", k.Key, k.WritesPerOrder, k.UnitsPerOrder, k.UnitsPerSecond)
			}
		}
		fmt.Printf("chaos: %d of %d partition keys over %d WCU/s\n", over, len(res.Hot), chaos.KeyLimit)
	}
	return res, nil
}
