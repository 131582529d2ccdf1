// Package qrimage is the image code of the routes that draw or read QR images:
// QR codes drawn as PNG (go-qrcode) and uploaded group QR images read as PNG or
// JPEG. Importing image/png or image/jpeg links their decoders into a binary (their
// init registers them), so only the functions serving those routes import this,
// through shared/wire/qrwire; shared/api reaches it as api.Images (issue 14).
package qrimage

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	qrcode "github.com/skip2/go-qrcode"
)

// Codecs implements api.Images.
type Codecs struct{}

// QRCode is a PNG of a QR code of content (medium error correction), size pixels
// a side.
func (Codecs) QRCode(content string, size int) ([]byte, error) {
	return qrcode.Encode(content, qrcode.Medium, size)
}

// codecs are the upload formats' decoders by content type.
var codecs = map[string]struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}{
	"image/png":  {png.DecodeConfig, png.Decode},
	"image/jpeg": {jpeg.DecodeConfig, jpeg.Decode},
}

// Config reads the dimensions of a PNG or JPEG image (typ image/png or
// image/jpeg) from its header.
func (Codecs) Config(typ string, data []byte) (width, height int, err error) {
	c, ok := codecs[typ]
	if !ok {
		return 0, 0, errors.New("qrimage: not a PNG or a JPEG: " + typ)
	}
	cfg, err := c.config(bytes.NewReader(data))
	return cfg.Width, cfg.Height, err
}

// Decode decodes the whole image, so a corrupt one is refused.
func (Codecs) Decode(typ string, data []byte) error {
	c, ok := codecs[typ]
	if !ok {
		return errors.New("qrimage: not a PNG or a JPEG: " + typ)
	}
	_, err := c.decode(bytes.NewReader(data))
	return err
}
