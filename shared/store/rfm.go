package store

import "context"

// SetRFM sets a member's RFM scores ("545": recency, frequency, monetary, 1–5
// each, 5 best) as read at m's version, only while the member is active and
// unchanged: a member changed meanwhile keeps its scores until the next run.
func (t *Tenant) SetRFM(ctx context.Context, m Member, rfm string) error {
	return t.setMemberField(ctx, m, "rfm", rfm)
}

// setMemberField sets one attribute of an active member read at m's version.
func (t *Tenant) setMemberField(ctx context.Context, m Member, name, value string) error {
	pk, sk := t.memberKey(m.ID)
	err := t.table.Update("PK", pk).Range("SK", sk).Set(name, value).Set("updated_at", t.s.Now()).
		Add("version", 1).If("version = ? AND $ = ?", m.Version, "status", StatusActive).
		ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "member")
}

// ValidRFMPattern reports whether p is an RFM pattern: three characters, each a
// score 1–5 or '*' for any ("5**", "545").
func ValidRFMPattern(p string) bool {
	if len(p) != 3 {
		return false
	}
	for _, c := range p {
		if c != '*' && (c < '1' || c > '5') {
			return false
		}
	}
	return true
}

// RFMMatches reports whether scores (e.g. "545") match a valid pattern; a member
// not yet scored matches only "***".
func RFMMatches(pattern, scores string) bool {
	if pattern == "***" {
		return true
	}
	if len(scores) != 3 {
		return false
	}
	for i := range 3 {
		if pattern[i] != '*' && pattern[i] != scores[i] {
			return false
		}
	}
	return true
}
