package api

import (
	"fmt"
	"net/http"
)

// Images are the image codecs of the routes that draw or read QR images
// (shared/qrimage; shared/wire/qrwire wires them). They are an option, not an
// import, so that the functions without those routes do not link image/png,
// image/jpeg and the QR encoder (issue 14).
type Images interface {
	// QRCode is a PNG of a QR code of content, size pixels a side.
	QRCode(content string, size int) ([]byte, error)
	// Config reads a PNG's or JPEG's dimensions (typ image/png or image/jpeg).
	Config(typ string, data []byte) (width, height int, err error)
	// Decode decodes the whole image.
	Decode(typ string, data []byte) error
}

// WithImages sets the image codecs; Handler refuses to mount imageOps without.
func WithImages(im Images) Option { return func(s *Server) { s.images = im } }

// imageOps are the ops whose handlers use the image codecs.
var imageOps = map[string]bool{"putGroupQR": true, "landingQR": true, "inviteQR": true, "liveCodeQR": true, "channelQR": true}

// checkImages fails when op needs image codecs the server was built without.
func (s *Server) checkImages(fn, op string) error {
	if imageOps[op] && s.images == nil {
		return fmt.Errorf("api: %s: op %s needs image codecs (api.WithImages, as shared/wire/qrwire builds it)", fn, op)
	}
	return nil
}

// qrSize is the side of QR PNGs in pixels: prints sharp at 5 cm.
const qrSize = 512

// writeQR answers a QR code of content as a PNG.
func (s *Server) writeQR(w http.ResponseWriter, content string) error {
	png, err := s.images.QRCode(content, qrSize)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(png)
	return nil
}
