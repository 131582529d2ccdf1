package store

import (
	"context"
	"strings"

	"github.com/tribehq/tribe/shared/problem"
)

// maxMergedLine bounds how many members EntryAcrossMerges looks through: a
// member and those it absorbed, and theirs.
const maxMergedLine = 32

// EntryAcrossMerges returns the entry sk of memberID or, when it is not there, of a
// member memberID absorbed (merges leave the absorbed member's entries where they
// were and move only its balance), with the id of the member that holds it. A
// refund of an order earned before a merge thus finds its earn entry and takes
// the points back from the survivor. The common case, the entry on memberID,
// costs the one read it always did.
func (t *Tenant) EntryAcrossMerges(ctx context.Context, memberID, sk string) (Entry, string, error) {
	seen := map[string]bool{}
	queue := []string{memberID}
	for len(queue) > 0 && len(seen) < maxMergedLine {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		e, err := t.Entry(ctx, id, sk)
		if err == nil {
			return e, id, nil
		}
		if !problem.Is(err, problem.NotFound) {
			return Entry{}, "", err
		}
		refs, err := t.memberRefs(ctx, id, refMerged)
		if err != nil {
			return Entry{}, "", err
		}
		for _, r := range refs {
			queue = append(queue, strings.TrimPrefix(r.SK, "REF#"+refMerged+"#"))
		}
	}
	return Entry{}, "", problem.New(problem.NotFound, "ledger entry not found")
}
