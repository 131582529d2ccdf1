// Package moderation enforces a group's rules (群规): no links, no QR codes or
// mini-program cards, no ad keywords, no flooding (刷屏), no repeating the same
// message, with warn, record, deduct-points and remove as the actions. It is
// pure logic: no clock, no database, no randomness. The same rules, role,
// activity, message and time always give the same decision.
//
// # One read, one write
//
// Everything Decide needs besides the rules (cached per group) is the member's
// recent-activity item in that group, an Activity. Per message the caller
// reads that one item, calls Decide, and writes the returned Activity back
// with a condition on the version it read:
//
//	a := load()                       // Version 0: no item yet
//	d, next := Decide(rules, role, a, msg, at)
//	save(next, a.Version)             // Put ... ConditionExpression:
//	                                  //   attribute_not_exists(version) OR version = :old
//
// # Concurrency contract
//
// Two messages of the same member processed at once both read version v; only
// one conditional write of v+1 succeeds. The loser must not act on its
// decision: it re-reads (now seeing the winner's timestamps) and decides
// again. Apply runs that loop. Because every decision that is acted on was
// made from the activity it replaces, flood and repeat counts are exact under
// any interleaving: of 50 simultaneous messages with a limit of 5, exactly 45
// are flagged. Each failed attempt means another writer succeeded, so n
// concurrent writers need at most n attempts; Apply gives up after
// MaxAttempts with ErrContention. Delivering a member's messages in order (an
// SQS FIFO queue with the group and member as the message group) avoids the
// contention altogether; the condition keeps it correct when that is not so.
//
// Act on a decision (post the warning, deduct points, remove the member) only
// after the save succeeded, and make those effects idempotent on the message's
// dedupe key: the conditional write is what makes the decision final.
//
// # Size
//
// Activity is bounded whatever the traffic: at most MaxTimes message times,
// MaxTexts text hashes and MaxViolations violations, each pruned to its
// rule's window. Its JSON encoding never exceeds MaxActivityBytes (tested:
// about 2.3 KB at every limit's maximum); as a DynamoDB item, which stores
// numbers more compactly, that is roughly 1.5 KB by the documented size rules.
//
// # Rules and exemptions
//
// Rules are set per tenant and per group; Merge lays the group's over the
// tenant's, rule by rule. Owners, admins and KOLs are exempt: their messages
// are never flagged, but their activity is still recorded.
package moderation

import (
	"errors"
	"slices"
)

// Role is a member's role in a group.
type Role string

// Roles, from the group owner (群主) down to ordinary members.
const (
	Owner  Role = "owner"
	Admin  Role = "admin"
	KOL    Role = "kol"
	Head   Role = "head"   // 头部用户
	Active Role = "active" // 活跃用户
	Normal Role = "normal"
)

// Exempt reports whether the rules do not apply to r. Unknown and empty roles
// are not exempt.
func (r Role) Exempt() bool { return r == Owner || r == Admin || r == KOL }

// Kind is the kind of message the chat layer reports.
type Kind string

// Message kinds. An empty Kind is treated as Text.
const (
	Text        Kind = "text"
	Image       Kind = "image"
	MiniProgram Kind = "miniprogram" // a mini-program card (小程序卡片)
	LinkCard    Kind = "link_card"   // a shared web page card
	QRCode      Kind = "qrcode"      // an image the chat layer recognised as a QR code
)

// Message is one message a member posted in a group.
type Message struct {
	Kind Kind
	// Text is the message text, or a card's title and description.
	Text string
	// URL is a link card's target, when the platform gives it.
	URL string
	// SenderName fills {name} in the warning.
	SenderName string
}

// Action is what happens when a rule matches.
type Action string

// Actions, in the order a Decision lists them.
const (
	Warn         Action = "warn"          // post the warning in the group
	Record       Action = "record"        // record a violation on the member's activity
	DeductPoints Action = "deduct_points" // deduct the rule's Points
	Remove       Action = "remove"        // remove the member from the group now
)

var actionOrder = [...]Action{Warn, Record, DeductPoints, Remove}

// RuleName names a rule in a Decision and in a recorded Violation; it is the
// rule's JSON name in Rules.
type RuleName string

// Rule names, in the order they are evaluated and reported.
const (
	RuleLinks    RuleName = "links"
	RuleQRCodes  RuleName = "qr_codes"
	RuleKeywords RuleName = "keywords"
	RuleFlood    RuleName = "flood"
	RuleRepeat   RuleName = "repeat"
)

// Sentinel errors.
var (
	// ErrInvalidRules wraps every Validate failure, beside the
	// problem.FieldErrors that name each field.
	ErrInvalidRules = errors.New("moderation: invalid rules")
	// ErrContention means every attempt of Apply lost its conditional write to
	// a concurrent writer; nothing was decided and the message may be retried.
	ErrContention = errors.New("moderation: activity changed concurrently on every attempt")
)

func validAction(a Action) bool { return slices.Contains(actionOrder[:], a) }
