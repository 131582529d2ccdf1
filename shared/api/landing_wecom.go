package api

import (
	"context"

	"github.com/tribehq/tribe/shared/store"
)

// weComJoinQR is the QR image URL of the live code's WeCom group join way (客户群活码),
// "" when the live code has none: the landing page then shows it, since WeCom
// routes the scan to a group of the join way itself (store.LiveCodeWeCom).
func (s *Server) weComJoinQR(ctx context.Context, t *store.Tenant, code string) (string, error) {
	w, found, err := t.LiveCodeWeCom(ctx, code)
	if err != nil || !found {
		return "", err
	}
	return w.QRCode, nil
}
