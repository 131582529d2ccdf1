// Package lottery is the fair, auditable draw of a lottery campaign (抽奖): a
// commitment to a secret seed published when the campaign is activated, and the
// winners derived from the seed and the sorted entry list once it is revealed, so
// that anyone holding the revealed seed and the entry list can recompute them.
//
// # The algorithm (version "tribe-lottery-v1")
//
//  1. Seed: 32 random bytes, chosen at activation and kept sealed.
//     Commitment = lowercase hex of SHA-256(seed), published at activation.
//  2. Entries: the distinct member ids that entered, sorted ascending by their
//     bytes (ASCII order). EntryListHash = lowercase hex of SHA-256 of the ids
//     joined with "\n" (no trailing newline; the empty list hashes the empty
//     string).
//  3. Draw: a counter i starts at 0. Prizes are taken in their order in the
//     settings and each prize's count one slot at a time. For each slot, with n
//     entries still in the running (n > 0):
//     block = HMAC-SHA256(key = seed, message = "draw:" + decimal(i)); i = i + 1;
//     x = the first 8 bytes of block as a big-endian unsigned 64-bit integer;
//     if x >= 2^64 - (2^64 mod n) the block is rejected (no modulo bias) and the
//     next i is tried; otherwise index = x mod n.
//     The winner is the entry at index in the running list (still in sorted
//     order); it is removed from the list, so nobody wins twice. When the list
//     is empty the remaining slots stay empty.
//
// Nothing else enters: no clock, no randomness after the seed. The package is pure
// (no store, no I/O) and holds the validation of lottery settings.
package lottery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Algorithm names the draw above; GET /v1/campaigns/{id}/draw publishes it.
const Algorithm = "tribe-lottery-v1"

// SeedSize is the length of a seed in bytes.
const SeedSize = 32

// ErrBadSeed: a seed is not SeedSize bytes (or not hex of them).
var ErrBadSeed = errors.New("lottery: a seed is 32 bytes")

// NewSeed returns a fresh random seed.
func NewSeed() ([]byte, error) {
	seed := make([]byte, SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	return seed, nil
}

// Commitment is the published commitment to seed: hex SHA-256(seed).
func Commitment(seed []byte) string {
	sum := sha256.Sum256(seed)
	return hex.EncodeToString(sum[:])
}

// ParseSeed reads a seed written as hex.
func ParseSeed(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != SeedSize {
		return nil, ErrBadSeed
	}
	return b, nil
}

// SortEntries returns the distinct ids of entries in ascending byte order, as the
// draw takes them.
func SortEntries(entries []string) []string {
	out := make([]string, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	sort.Strings(out)
	return out
}

// EntryListHash is hex SHA-256 of the sorted ids joined by "\n".
func EntryListHash(sorted []string) string {
	sum := sha256.Sum256([]byte(strings.Join(sorted, "\n")))
	return hex.EncodeToString(sum[:])
}

// Pick is one winning slot: the prize (its index in the settings) and the member.
type Pick struct {
	Prize    int    `json:"prize"`
	Slot     int    `json:"slot"`
	MemberID string `json:"member_id"`
}

// Draw returns the winners of prizes (the count of each, in order) among sorted
// (SortEntries' output) under seed. It fails only for a seed of the wrong size.
func Draw(seed []byte, sorted []string, counts []int) ([]Pick, error) {
	if len(seed) != SeedSize {
		return nil, ErrBadSeed
	}
	running := append([]string(nil), sorted...)
	var out []Pick
	var i uint64
	for p, count := range counts {
		for slot := 0; slot < count && len(running) > 0; slot++ {
			var idx int
			idx, i = uniform(seed, i, uint64(len(running)))
			out = append(out, Pick{Prize: p, Slot: slot, MemberID: running[idx]})
			running = append(running[:idx], running[idx+1:]...)
		}
	}
	return out, nil
}

// uniform draws an index below n from the HMAC blocks starting at counter i, by
// rejection sampling, and returns it with the next counter.
func uniform(seed []byte, i, n uint64) (int, uint64) {
	// 2^64 mod n, computed in 64 bits: (2^64 - n) mod n.
	rem := (-n) % n
	for {
		mac := hmac.New(sha256.New, seed)
		mac.Write([]byte("draw:" + strconv.FormatUint(i, 10)))
		i++
		x := binary.BigEndian.Uint64(mac.Sum(nil)[:8])
		// Accept x < 2^64 - rem; when rem is 0 every x is accepted.
		if rem == 0 || x < -rem {
			return int(x % n), i
		}
	}
}
