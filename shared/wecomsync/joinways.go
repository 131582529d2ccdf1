package wecomsync

import (
	"context"
	"slices"
	"strings"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wecom"
)

// JoinWayIn is how a live code asks for a WeCom group join way (客户群活码).
type JoinWayIn struct {
	IntegrationID string `json:"integration_id"`
	// AutoCreateRoom: when the listed groups are full, WeCom creates a new one
	// named RoomBaseName + RoomBaseID (base10, base11…).
	AutoCreateRoom bool   `json:"auto_create_room"`
	RoomBaseName   string `json:"room_base_name"`
	RoomBaseID     int    `json:"room_base_id"`
}

// JoinWayState is the state a live code's join way carries (WeCom keeps 30
// characters; a live code is longer): "lc." and the code's random part.
func JoinWayState(code string) string {
	i := strings.LastIndexByte(code, '_')
	return "lc." + code[i+1:]
}

// joinChats are the WeCom chats a live code's join way lists: the pool's WeCom
// groups that take scans (open, below capacity and QR join cap), in pool order,
// at most five. Groups fill and rotate out; the next ones rotate in.
func joinChats(ctx context.Context, t *store.Tenant, lc store.LiveCode) ([]string, error) {
	var out []string
	for _, p := range lc.Pool {
		if len(out) == wecom.MaxJoinWayChats {
			break
		}
		g, err := t.Group(ctx, p.GroupID)
		if problem.Is(err, problem.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if g.Platform == store.PlatformWeCom && g.ExternalChatID != "" && g.TakesScans() && (p.ScanThreshold == 0 || g.Members < p.ScanThreshold) {
			out = append(out, g.ExternalChatID)
		}
	}
	return out, nil
}

func (w joinWayRec) joinWay(code string, chats []string) wecom.JoinWay {
	jw := wecom.JoinWay{ConfigID: w.ConfigID, Scene: wecom.SceneQRCode, ChatIDList: chats, State: JoinWayState(code), Remark: JoinWayState(code)}
	if w.AutoCreateRoom {
		jw.AutoCreateRoom, jw.RoomBaseName, jw.RoomBaseID = 1, w.RoomBaseName, w.RoomBaseID
	}
	return jw
}

type joinWayRec struct{ store.LiveCodeWeCom }

// PutJoinWay backs a live code with a WeCom group join way, or changes the one
// it has: its chat list is the pool's WeCom groups with room (at least one is
// needed), its QR code is WeCom's and is what the live code serves.
func (s *Syncer) PutJoinWay(ctx context.Context, t *store.Tenant, code string, in JoinWayIn) (store.LiveCodeWeCom, error) {
	lc, err := t.LiveCode(ctx, code)
	if err != nil {
		return store.LiveCodeWeCom{}, err
	}
	cur, found, err := t.LiveCodeWeCom(ctx, code)
	if err != nil {
		return store.LiveCodeWeCom{}, err
	}
	if found && in.IntegrationID != "" && in.IntegrationID != cur.IntegrationID {
		return store.LiveCodeWeCom{}, problem.Field("integration_id", "a join way stays with its integration: delete it first")
	}
	igID := in.IntegrationID
	if found {
		igID = cur.IntegrationID
	}
	cl, igID, err := s.clients.For(ctx, t, igID)
	if err != nil {
		return store.LiveCodeWeCom{}, err
	}
	chats, err := joinChats(ctx, t, lc)
	if err != nil {
		return store.LiveCodeWeCom{}, err
	}
	if len(chats) == 0 {
		return store.LiveCodeWeCom{}, problem.Field("pool", "the live code's pool has no WeCom group (with its external_chat_id) that has room: a join way lists 1 to 5")
	}
	next := joinWayRec{store.LiveCodeWeCom{IntegrationID: igID, ConfigID: cur.ConfigID, QRCode: cur.QRCode, ChatIDs: chats,
		AutoCreateRoom: in.AutoCreateRoom, RoomBaseName: in.RoomBaseName, RoomBaseID: in.RoomBaseID}}
	if found {
		if err := cl.UpdateJoinWay(ctx, next.joinWay(code, chats)); err != nil {
			return store.LiveCodeWeCom{}, err
		}
	} else {
		if next.ConfigID, err = cl.AddJoinWay(ctx, next.joinWay(code, chats)); err != nil {
			return store.LiveCodeWeCom{}, err
		}
		jw, err := cl.GetJoinWay(ctx, next.ConfigID)
		if err != nil {
			return store.LiveCodeWeCom{}, err
		}
		next.QRCode = jw.QRCode
	}
	if err := t.PutLiveCodeWeCom(ctx, code, next.LiveCodeWeCom); err != nil {
		return store.LiveCodeWeCom{}, err
	}
	return next.LiveCodeWeCom, nil
}

// DeleteJoinWay deletes a live code's join way at WeCom, then its record.
func (s *Syncer) DeleteJoinWay(ctx context.Context, t *store.Tenant, code string) error {
	cur, found, err := t.LiveCodeWeCom(ctx, code)
	if err != nil || !found {
		return err
	}
	cl, _, err := s.clients.For(ctx, t, cur.IntegrationID)
	if err != nil {
		return err
	}
	if err := cl.DelJoinWay(ctx, cur.ConfigID); err != nil {
		return err
	}
	return t.DeleteLiveCodeWeCom(ctx, code)
}

// RefreshJoinWay keeps a live code's join way's chat list in step with its pool:
// when the groups with room are not the ones listed (a group filled, one was
// added), update_join_way lists the new ones. With none left it lists what it
// had (WeCom needs one; with auto_create_room WeCom opens a new group itself).
// It reports whether it changed the join way.
func (s *Syncer) RefreshJoinWay(ctx context.Context, t *store.Tenant, code string) (bool, error) {
	cur, found, err := t.LiveCodeWeCom(ctx, code)
	if err != nil || !found {
		return false, err
	}
	lc, err := t.LiveCode(ctx, code)
	if err != nil {
		return false, err
	}
	chats, err := joinChats(ctx, t, lc)
	if err != nil || len(chats) == 0 || slices.Equal(chats, cur.ChatIDs) {
		return false, err
	}
	cl, _, err := s.clients.For(ctx, t, cur.IntegrationID)
	if err != nil {
		return false, err
	}
	next := joinWayRec{cur}
	if err := cl.UpdateJoinWay(ctx, next.joinWay(code, chats)); err != nil {
		return false, err
	}
	cur.ChatIDs = chats
	return true, t.PutLiveCodeWeCom(ctx, code, cur)
}

// maxLiveCodesScanned bounds how many of a tenant's live codes a group change
// looks through for join ways to refresh.
const maxLiveCodesScanned = 500

// RefreshJoinWaysOf refreshes the join ways of the tenant's live codes whose
// pool holds group groupID (its members changed: it may have filled or emptied).
func (s *Syncer) RefreshJoinWaysOf(ctx context.Context, t *store.Tenant, groupID string) error {
	cursor := ""
	for seen := 0; seen < maxLiveCodesScanned; {
		page, err := t.LiveCodes(ctx, 100, cursor)
		if err != nil {
			return err
		}
		for _, lc := range page.Items {
			seen++
			if !slices.ContainsFunc(lc.Pool, func(p store.PoolEntry) bool { return p.GroupID == groupID }) {
				continue
			}
			if _, err := s.RefreshJoinWay(ctx, t, lc.Code); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
	return nil
}
