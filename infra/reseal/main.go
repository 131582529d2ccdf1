// Command reseal is the one-off migration that seals secrets written before
// sealing existed (store.ResealTenants): every plaintext integration secret, WeCom
// token and EncodingAESKey, connector URL and connector secret of every tenant. It
// reads the table, the KMS key or local key file the functions use (TRIBE_TABLE,
// TRIBE_SECRETS_KEY_ID or TRIBE_SECRETS_KEY_FILE, TRIBE_DYNAMO_ENDPOINT; see
// shared/config) and prints one JSON line per page of tenants with the cursor to
// resume from. It is idempotent: run it again, or with -cursor, after a failure.
//
//	make reseal [CURSOR=<tenant id>]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/store"
)

func main() {
	cursor := flag.String("cursor", "", "resume after this tenant id (the last cursor printed)")
	page := flag.Int("page", 25, "tenants per page")
	flag.Parse()
	ctx := context.Background()
	deps, err := config.Load(ctx)
	if err == nil {
		err = run(ctx, deps.Store, *page, *cursor, json.NewEncoder(os.Stdout))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reseal:", err)
		os.Exit(1)
	}
}

// progress is one line of output: what a page rewrote and where to resume.
type progress struct {
	store.ResealCount
	Cursor string `json:"cursor"`
}

// run reseals every tenant after cursor, a page at a time.
func run(ctx context.Context, st *store.Store, page int, cursor string, out *json.Encoder) error {
	if !st.CanSeal() {
		return errors.New("no sealing key: set TRIBE_SECRETS_KEY_ID (AWS) or TRIBE_SECRETS_KEY_FILE (local)")
	}
	for {
		n, next, err := st.ResealTenants(ctx, page, cursor)
		if err != nil {
			return fmt.Errorf("%w (resume with -cursor %q)", err, next)
		}
		if err := out.Encode(progress{n, next}); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
