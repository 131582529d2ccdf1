package store

// Read plumbing shared by every aggregate: one item by key, a page of a query, and
// a page of the items a listing index names.

import (
	"context"
	"errors"

	"github.com/guregu/dynamo/v2"
)

// getItem reads the item at pk, sk into out (a strongly consistent read when
// consistent); a missing item is problem.NotFound naming what.
func (t *Tenant) getItem(ctx context.Context, pk, sk string, consistent bool, out any, what string) error {
	err := t.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(consistent).ConsumedCapacity(rcc(ctx)).One(ctx, out)
	return translate(err, what)
}

// findItem is getItem for an item that may be missing: it reports false, and no
// error, when there is none (out is then untouched).
func (t *Tenant) findItem(ctx context.Context, pk, sk string, consistent bool, out any, what string) (bool, error) {
	err := t.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(consistent).ConsumedCapacity(rcc(ctx)).One(ctx, out)
	if errors.Is(err, dynamo.ErrNotFound) {
		return false, nil
	}
	return err == nil, translate(err, what)
}

// queryPage runs q (limited to limit) and returns what item makes of each row,
// with the cursor of the last row when the page is full.
func queryPage[I, T any](ctx context.Context, q *dynamo.Query, limit int, what string, item func(I) T, cursor func(I) string) (Page[T], error) {
	var rows []I
	if err := q.All(ctx, &rows); err != nil {
		return Page[T]{}, translate(err, what)
	}
	page := Page[T]{Items: make([]T, 0, len(rows))}
	for _, r := range rows {
		page.Items = append(page.Items, item(r))
	}
	if len(rows) == limit {
		page.NextCursor = cursor(rows[len(rows)-1])
	}
	return page, nil
}

// getByID batch-reads the items key locates for ids (each id once) and returns
// them by the id item gives; missing items are left out.
func getByID[I, T any](ctx context.Context, t *Tenant, idList []string, consistent bool, what string, key func(id string) (string, string), item func(I) (string, T)) (map[string]T, error) {
	keys := make([]dynamo.Keyed, 0, len(idList))
	seen := make(map[string]bool, len(idList))
	for _, id := range idList {
		if seen[id] {
			continue
		}
		seen[id] = true
		pk, sk := key(id)
		keys = append(keys, dynamo.Keys{pk, sk})
	}
	items, err := batchGet[I](ctx, t, keys, consistent, what)
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(items))
	for _, it := range items {
		id, v := item(it)
		out[id] = v
	}
	return out, nil
}

// indexPage is a page of the items the listing-index partition pk names, in its
// order: up to limit ids after cursor (listIndex), each read with getByID; an id
// whose item is gone is left out.
func indexPage[I, T any](ctx context.Context, t *Tenant, pk string, limit int, cursor, what string, key func(id string) (string, string), item func(I) (string, T)) (Page[T], error) {
	idList, next, err := t.listIndex(ctx, pk, limit, cursor, what)
	if err != nil {
		return Page[T]{}, err
	}
	byID, err := getByID(ctx, t, idList, false, what, key, item)
	if err != nil {
		return Page[T]{}, err
	}
	page := Page[T]{Items: make([]T, 0, len(idList)), NextCursor: next}
	for _, id := range idList {
		if v, ok := byID[id]; ok {
			page.Items = append(page.Items, v)
		}
	}
	return page, nil
}
