package api

// The campaignplay function: lottery entries and draws, flash sale claims.

import (
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/tribehq/tribe/shared/campaignplay"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/lottery"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

type memberIn struct {
	MemberID string `json:"member_id"`
}

// playMember reads the campaign id and the body's member_id.
func playMember(r *http.Request) (string, string, error) {
	id, err := campaignID(r)
	if err != nil {
		return "", "", err
	}
	var in memberIn
	if err := decode(r, &in); err != nil {
		return "", "", err
	}
	if in.MemberID == "" {
		return "", "", problem.Field("member_id", "member_id is required")
	}
	if !ids.Valid(ids.Member, in.MemberID) {
		return "", "", problem.Field("member_id", "member_id is not a member id")
	}
	return id, in.MemberID, nil
}

func (s *Server) enterLottery(w http.ResponseWriter, r *http.Request, c *call) error {
	id, member, err := playMember(r)
	if err != nil {
		return err
	}
	e, created, err := campaignplay.Enter(r.Context(), c.tenant, id, member, lottery.SourceAPI, s.store.Now())
	if err != nil {
		return err
	}
	c.note("campaign", id, "member", member, "created", created)
	if created {
		return writeJSON(w, http.StatusCreated, e)
	}
	return writeJSON(w, http.StatusOK, e)
}

func (s *Server) listLotteryEntries(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	if _, err := campaignplay.Published(r.Context(), c.tenant, id); err != nil {
		return err
	}
	return listPage(w, r, within(id, c.tenant.LotteryEntries))
}

// drawView is a lottery as published: enough to recompute the winners.
type drawView struct {
	CampaignID    string                `json:"campaign_id"`
	Algorithm     string                `json:"algorithm"`
	Status        string                `json:"status"`
	Commitment    string                `json:"commitment"`
	CommittedAt   time.Time             `json:"committed_at"`
	DrawnAt       *time.Time            `json:"drawn_at"`
	Seed          *string               `json:"seed"`
	EntryCount    int                   `json:"entry_count"`
	EntryListHash *string               `json:"entry_list_hash"`
	Entries       string                `json:"entries"`
	Prizes        []lottery.Prize       `json:"prizes"`
	Winners       []store.LotteryWinner `json:"winners"`
}

func viewDraw(res campaignplay.Result) drawView {
	l := res.Lottery
	v := drawView{CampaignID: l.CampaignID, Algorithm: lottery.Algorithm, Status: "committed", Commitment: l.Commitment,
		CommittedAt: l.CommittedAt, Entries: "/v1/campaigns/" + l.CampaignID + "/entries",
		Prizes: res.Prizes, Winners: res.Winners}
	if l.Drawn() {
		v.Status, v.DrawnAt, v.Seed, v.EntryCount, v.EntryListHash = "drawn", l.DrawnAt, &l.Seed, l.EntryCount, &l.EntryListHash
	}
	if v.Prizes == nil {
		v.Prizes = []lottery.Prize{}
	}
	if v.Winners == nil {
		v.Winners = []store.LotteryWinner{}
	}
	return v
}

func (s *Server) getDraw(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	res, err := campaignplay.Published(r.Context(), c.tenant, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewDraw(res))
}

func (s *Server) drawLottery(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	set, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	set.Now = s.store.Now()
	res, err := campaignplay.Draw(r.Context(), c.tenant, set, id, set.Now)
	if err != nil {
		return err
	}
	c.note("campaign", id, "entries", res.Lottery.EntryCount, "winners", len(res.Winners))
	return writeJSON(w, http.StatusOK, viewDraw(res))
}

func (s *Server) claimFlashSale(w http.ResponseWriter, r *http.Request, c *call) error {
	id, member, err := playMember(r)
	if err != nil {
		return err
	}
	// With an Idempotency-Key the claim's id is derived from it, so a retry that
	// takes over a request cut off half-way finds the same claim.
	claimID := ids.New("clm")
	if c.idemKey != "" {
		sum := sha256.Sum256([]byte(c.tenant.ID() + "\x00" + c.idemKey))
		claimID = ids.FromHash("clm", sum[:])
	}
	claim, created, err := campaignplay.Claim(r.Context(), c.tenant, id, member, claimID, s.store.Now())
	if err != nil {
		return err
	}
	c.note("campaign", id, "member", member, "claim", claim.ID, "created", created)
	if created {
		return writeJSON(w, http.StatusCreated, claim)
	}
	return writeJSON(w, http.StatusOK, claim)
}
