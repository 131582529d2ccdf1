package netguard

import (
	"errors"
	"io"
)

// ErrBodyTooLarge: a response body was longer than the caller allowed.
var ErrBodyTooLarge = errors.New("netguard: response body too large")

// ReadBody reads at most max bytes from r. A body longer than max is refused with
// ErrBodyTooLarge after reading max+1 bytes, so a hostile endpoint cannot make us
// buffer more than that; read errors are returned as they are.
func ReadBody(r io.Reader, max int64) ([]byte, error) {
	if max < 0 {
		max = 0
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}
