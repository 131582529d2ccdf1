package api

// The coupons function: coupon pools and their codes.

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/money"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

const couponPoolPrefix = "cpn"

// couponPoolView is a pool as the API shows it.
type couponPoolView struct {
	store.CouponPool
	FaceValue Money              `json:"face_value"`
	Stats     *store.CouponStats `json:"stats,omitempty"`
}

func poolView(p store.CouponPool) couponPoolView {
	return couponPoolView{CouponPool: p, FaceValue: Money{Amount: p.FaceAmount, Currency: p.Currency}}
}

type couponPoolIn struct {
	Name        string `json:"name"`
	FaceValue   *Money `json:"face_value"`
	Description string `json:"description"`
}

func (s *Server) createCouponPool(w http.ResponseWriter, r *http.Request, c *call) error {
	var in couponPoolIn
	if err := decode(r, &in); err != nil {
		return err
	}
	name, err := validName("name", in.Name, 100)
	if err != nil {
		return err
	}
	if in.FaceValue == nil {
		return problem.Field("face_value", "face_value {amount, currency} is required")
	}
	if !money.Valid(in.FaceValue.Currency) {
		return problem.Field("face_value.currency", "currency is an active ISO 4217 code")
	}
	if money.CheckAmount(in.FaceValue.Amount) != nil {
		return problem.Field("face_value.amount", "amount is from 0 to %d minor units", money.MaxAmount)
	}
	if utf8.RuneCountInString(in.Description) > 500 {
		return problem.Field("description", "description is at most 500 characters")
	}
	p := store.CouponPool{ID: ids.New(couponPoolPrefix), Name: name, Description: strings.TrimSpace(in.Description),
		FaceAmount: in.FaceValue.Amount, Currency: in.FaceValue.Currency, CreatedAt: s.store.Now()}
	if err := c.tenant.CreateCouponPool(r.Context(), p); err != nil {
		return err
	}
	v := poolView(p)
	v.Stats = &store.CouponStats{}
	w.Header().Set("Location", "/v1/coupon-pools/"+p.ID)
	return writeJSON(w, http.StatusCreated, v)
}

func couponPoolID(r *http.Request) (string, error) {
	return pathID(r, "id", couponPoolPrefix, "coupon pool")
}

func (s *Server) listCouponPools(w http.ResponseWriter, r *http.Request, c *call) error {
	return listView(w, r, idCursor(couponPoolPrefix, c.tenant.CouponPools), poolView)
}

func (s *Server) getCouponPool(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, couponPoolID, func(ctx context.Context, id string) (couponPoolView, error) {
		p, err := c.tenant.CouponPool(ctx, id)
		if err != nil {
			return couponPoolView{}, err
		}
		st, err := c.tenant.CouponStats(ctx, id)
		v := poolView(p)
		v.Stats = &st
		return v, err
	})
}

// uploadResult is what an upload answers.
type uploadResult struct {
	store.UploadResult
	Stats store.CouponStats `json:"stats"`
}

// uploadCouponCodes adds codes to a pool: a JSON array of strings (or
// {"codes": [...]}) or text/csv with the code in the first column (a first row
// "code" is a header). At most store.MaxCouponCodesPerUpload codes per request;
// each 1..64 printable ASCII characters without spaces. Codes already in the
// pool are counted as duplicates.
func (s *Server) uploadCouponCodes(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := couponPoolID(r)
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var codes []string
	switch {
	case mt == "text/csv" || mt == "text/plain":
		codes, err = csvCodes(body)
	case mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json"):
		codes, err = jsonCodes(body)
	default:
		return problem.New(problem.UnsupportedMedia, "send the codes as application/json or text/csv")
	}
	if err != nil {
		return err
	}
	if len(codes) == 0 {
		return problem.Field("codes", "no codes in the request")
	}
	if len(codes) > store.MaxCouponCodesPerUpload {
		return problem.Field("codes", "at most %d codes per request; send the rest in further requests", store.MaxCouponCodesPerUpload)
	}
	for i, code := range codes {
		if reason := badCode(code); reason != "" {
			return problem.Field(fmt.Sprintf("codes[%d]", i), "%s", reason)
		}
	}
	if _, err := c.tenant.CouponPool(r.Context(), id); err != nil {
		return err
	}
	res, err := c.tenant.AddCouponCodes(r.Context(), id, codes)
	if err != nil {
		return err
	}
	st, err := c.tenant.CouponStats(r.Context(), id)
	if err != nil {
		return err
	}
	c.note("pool", id, "received", res.Received, "added", res.Added)
	return writeJSON(w, http.StatusOK, uploadResult{UploadResult: res, Stats: st})
}

func jsonCodes(body []byte) ([]string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, problem.New(problem.MalformedJSON, "request body is empty; send a JSON array of codes")
	}
	if trimmed[0] == '[' {
		var codes []string
		if err := decodeBytes(trimmed, &codes); err != nil {
			return nil, problem.Field("codes", "the body is a JSON array of code strings")
		}
		return codes, nil
	}
	var in struct {
		Codes []string `json:"codes"`
	}
	if err := decodeBytes(trimmed, &in); err != nil {
		return nil, err
	}
	return in.Codes, nil
}

func csvCodes(body []byte) ([]string, error) {
	rd := csv.NewReader(bytes.NewReader(body))
	rd.FieldsPerRecord = -1
	rd.TrimLeadingSpace = true
	var codes []string
	for line := 1; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, problem.Field("codes", "the CSV cannot be read near line %d", line)
		}
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
			continue
		}
		code := strings.TrimSpace(rec[0])
		if len(codes) == 0 && strings.EqualFold(code, "code") {
			continue
		}
		codes = append(codes, code)
		if len(codes) > store.MaxCouponCodesPerUpload {
			break
		}
	}
	return codes, nil
}

// badCode says what is wrong with a code, "" when nothing.
func badCode(code string) string {
	if code == "" || len(code) > store.MaxCouponCodeLen {
		return fmt.Sprintf("a code is 1 to %d characters", store.MaxCouponCodeLen)
	}
	for i := 0; i < len(code); i++ {
		if code[i] < 0x21 || code[i] > 0x7e {
			return "a code is printable ASCII without spaces"
		}
	}
	return ""
}
