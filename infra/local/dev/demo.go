package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tribehq/tribe/infra/local/demo"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// DemoStaffEmail is the demo login make dev creates.
const DemoStaffEmail = "demo@example.com"

// demoData seeds the demo tenant with a month of activity on first start (a
// marker in the data folder; the seed itself is idempotent too) and makes the
// demo staff login; it returns its email and password. It runs before the stream
// pump and the gateway start: the seed moves the store's clock through the month,
// and the pump then takes every record it wrote, in order, on the real clock.
func demoData(ctx context.Context, st *store.Store, gateway http.Handler, adminKey, demoKey, data string) (string, string, error) {
	password, err := secretFile(filepath.Join(data, "demo-staff-password"), os.Getenv("TRIBE_DEMO_PASSWORD"), func() string { return "demo-" + ids.Random(12) })
	if err != nil {
		return "", "", err
	}
	if err := demo.Staff(gateway, demoKey, DemoStaffEmail, password); err != nil {
		return "", "", err
	}
	marker := filepath.Join(data, "demo-seeded")
	if _, err := os.Stat(marker); err == nil {
		return DemoStaffEmail, password, nil
	}
	tenantID, _ := auth.ParseKey(demoKey)
	zone := time.UTC
	if t, err := st.Tenant(tenantID); err == nil {
		if set, err := settings.New(st); err == nil {
			if s, err := set.Get(ctx, t); err == nil && s.Location != nil {
				zone = s.Location
			}
		}
	}
	fmt.Println("Seeding the demo tenant with a month of members, groups, orders, check-ins and violations (first start only, a few minutes)…")
	start := time.Now()
	res, err := demo.Seed(ctx, demo.Options{Gateway: gateway, SetNow: st.SetClock, Key: demoKey, AdminKey: adminKey, TenantID: tenantID, Zone: zone})
	if err != nil {
		return "", "", fmt.Errorf("seeding the demo tenant: %w", err)
	}
	fmt.Printf("Seeded in %s: %d members, %d groups, %d orders, %d chat events, %d live-code scans.\n",
		time.Since(start).Round(time.Second), res.Members, res.Groups, res.Orders, res.ChatEvents, res.Scans)
	return DemoStaffEmail, password, os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}
