package api

import (
	"context"

	"github.com/tribehq/tribe/shared/store"
)

// weComJoinQR is the QR image URL of the live code's WeCom group join way (客户群活码),
// "" when the live code has none: the landing page then shows it, since WeCom
// routes the scan to a group of the join way itself. The WeCom engineer's store
// keeps the join way (store.LiveCodeWeCom); the merge points this at it:
//
//	w, found, err := t.LiveCodeWeCom(ctx, code); if found { return w.QRCode, err }
func (s *Server) weComJoinQR(ctx context.Context, t *store.Tenant, code string) (string, error) {
	return "", nil
}
