package api

// A group's own join QR image (群二维码): operators upload it with its expiry,
// and live-code landing pages show it.

import (
	"bytes"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Image bounds: a QR code a phone can read from a screen, small enough to decode
// safely (a 200 KB file may otherwise claim an enormous canvas).
const (
	minQRSide = 100
	maxQRSide = 4096
)

// groupQRBodyLimit is the body limit of the upload route: the largest image as
// base64 in JSON, with room for the rest of the object.
const groupQRBodyLimit = 300 << 10

const (
	typePNG  = "image/png"
	typeJPEG = "image/jpeg"
)

// sniffImage names the format of data by its signature: PNG or JPEG, else "".
func sniffImage(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return typePNG
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		return typeJPEG
	}
	return ""
}

// checkQRImage validates an uploaded image: at most store.MaxGroupQRBytes, PNG or
// JPEG by its bytes (and as declared, when declared), sides within bounds, and the
// whole image decodable. It returns the format and size; every failure is a 400
// naming image.
func (s *Server) checkQRImage(data []byte, declared string) (string, int, int, error) {
	if len(data) == 0 {
		return "", 0, 0, problem.Field("image", "the image is empty")
	}
	if len(data) > store.MaxGroupQRBytes {
		return "", 0, 0, problem.Field("image", "the image is %d bytes; at most %d (200 KB)", len(data), store.MaxGroupQRBytes)
	}
	ct := sniffImage(data)
	if ct == "" {
		return "", 0, 0, problem.Field("image", "the image must be a PNG or a JPEG")
	}
	if declared != "" && declared != ct {
		return "", 0, 0, problem.Field("image", "the image is declared %s but is %s", declared, ct)
	}
	width, height, err := s.images.Config(ct, data)
	if err != nil {
		return "", 0, 0, problem.Field("image", "the image is corrupt: %v", err)
	}
	if width < minQRSide || height < minQRSide || width > maxQRSide || height > maxQRSide {
		return "", 0, 0, problem.Field("image", "the image is %d×%d pixels; each side must be %d to %d", width, height, minQRSide, maxQRSide)
	}
	if err := s.images.Decode(ct, data); err != nil {
		return "", 0, 0, problem.Field("image", "the image is corrupt: %v", err)
	}
	return ct, width, height, nil
}

// groupQRIn is the JSON form of an upload.
type groupQRIn struct {
	ImageBase64 string     `json:"image_base64"`
	ContentType string     `json:"content_type"`
	ExpiresAt   *time.Time `json:"expires_at"`
}

type groupQROut struct {
	store.GroupQR
	ImageURL string `json:"image_url"`
}

// putGroupQR stores a group's QR image: the body is the image (Content-Type
// image/png or image/jpeg, expiry in ?expires_at=) or JSON {image_base64,
// content_type, expires_at}. The expiry defaults to 7 days from now, WeChat's
// lifetime of a group QR code, and may not be later.
func (s *Server) putGroupQR(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var in groupQRIn
	var data []byte
	switch {
	case mt == typePNG || mt == typeJPEG:
		if data, err = readBody(r); err != nil {
			return err
		}
		in.ContentType = mt
		if v := r.URL.Query().Get("expires_at"); v != "" {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return problem.Field("expires_at", "expires_at must be an RFC 3339 time")
			}
			in.ExpiresAt = &at
		}
	case mt == "application/json":
		if err := decode(r, &in); err != nil {
			return err
		}
		if in.ContentType != "" && in.ContentType != typePNG && in.ContentType != typeJPEG {
			return problem.Field("content_type", "content_type must be image/png or image/jpeg")
		}
		if data, err = base64.StdEncoding.DecodeString(strings.TrimSpace(in.ImageBase64)); err != nil {
			return problem.Field("image_base64", "image_base64 must be standard base64")
		}
	default:
		return problem.New(problem.UnsupportedMedia, "send the image as image/png or image/jpeg, or JSON with image_base64")
	}
	ct, width, height, err := s.checkQRImage(data, in.ContentType)
	if err != nil {
		return err
	}
	now := s.store.Now()
	expires := now.Add(store.GroupQRLifetime)
	if in.ExpiresAt != nil {
		expires = in.ExpiresAt.UTC()
		if !expires.After(now) || expires.After(now.Add(store.GroupQRLifetime+time.Minute)) {
			return problem.Field("expires_at", "expires_at must be in the next 7 days (a WeChat group QR code lasts 7 days)")
		}
	}
	q, err := c.tenant.PutGroupQR(r.Context(), id, store.GroupQR{Image: data, ContentType: ct, Width: width, Height: height, ExpiresAt: expires})
	if err != nil {
		return err
	}
	c.note("qr_version", q.Version, "bytes", q.Bytes)
	return writeJSON(w, http.StatusOK, groupQROut{GroupQR: q, ImageURL: s.publicURL(r, "/v1/groups/"+id+"/qr")})
}

// getGroupQR answers a group's uploaded QR image itself.
func (s *Server) getGroupQR(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	q, err := c.tenant.GroupQR(r.Context(), id, true)
	if err != nil {
		return err
	}
	return writeImage(w, q, "private, no-cache")
}

// bodyLimits are the routes (by op) whose bodies may exceed MaxBody.
var bodyLimits = map[string]int64{"putGroupQR": groupQRBodyLimit}
