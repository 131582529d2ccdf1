// Package wecom verifies, decrypts and parses WeCom (企业微信) callbacks, and
// encrypts passive replies, as WeCom's 加解密方案说明 describes (document 91144):
//
//   - AESKey = Base64Decode(EncodingAESKey + "="), 32 bytes; AES-256-CBC with
//     IV = AESKey[:16]; PKCS#7 padding to a multiple of 32 bytes (not 16).
//   - plaintext = 16 random bytes ‖ msg length (4 bytes, big-endian) ‖ msg ‖ receiveid.
//   - msg_signature = hex SHA1 of token, timestamp, nonce and the ciphertext,
//     sorted and concatenated.
//
// The package is pure: no network, no storage. Every error wraps one of the
// exported sentinels; no input makes it panic.
package wecom

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. WeCom's own libraries call them -40001 (signature),
// -40007 (decrypt) and -40005 (receive id).
var (
	// ErrSignature means msg_signature does not match the token, timestamp,
	// nonce and ciphertext: the request did not come from WeCom or was altered.
	ErrSignature = errors.New("wecom: signature mismatch")
	// ErrDecrypt means the ciphertext is not valid base64, not a whole number of
	// AES blocks, has bad PKCS#7 padding or a message length that does not fit.
	ErrDecrypt = errors.New("wecom: cannot decrypt")
	// ErrReceiveID means the message decrypted but was addressed to another
	// corp (or suite): a key shared across tenants, or a misrouted callback.
	ErrReceiveID = errors.New("wecom: receive id mismatch")
	// ErrMalformed means the XML envelope or inner message cannot be read.
	ErrMalformed = errors.New("wecom: malformed message")
	// ErrConfig means NewCrypter was given an unusable token or key.
	ErrConfig = errors.New("wecom: bad configuration")
	// ErrStale means a callback's signed timestamp is not a Unix time in seconds
	// within MaxSkew of now: a replay of an old callback, or a clock far off.
	ErrStale = errors.New("wecom: timestamp outside the accepted window")
)

// MaxSkew is how far a callback's signed timestamp may be from now, either way.
// WeCom retries within seconds, so five minutes (Stripe's and Standard Webhooks'
// tolerance) leaves room for clock skew and nothing for replays; whoever dedupes
// callbacks must remember them for longer than twice this.
const MaxSkew = 5 * time.Minute

// CheckFresh returns ErrStale unless timestamp, the callback's signed query
// parameter (Unix seconds), is within MaxSkew of now. Check the signature first:
// only then is the timestamp WeCom's.
func CheckFresh(timestamp string, now time.Time) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || sec <= 0 {
		return fmt.Errorf("%w: not Unix seconds", ErrStale)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("%w: %s from now", ErrStale, d.Round(time.Second))
	}
	return nil
}

const (
	encodingKeyLen = 43
	padBlock       = 32 // WeCom pads to 32 bytes, not the AES block size
	randomLen      = 16
	lengthLen      = 4
	// MaxBodyBytes bounds the POST body and the inner XML Decrypt and Parse accept.
	MaxBodyBytes = 1 << 20
)

// Crypter holds one WeCom callback configuration: Token, EncodingAESKey and the
// receive id (the CorpID for a self-built app; the SuiteID on a third-party
// instruction URL). It is safe for concurrent use.
type Crypter struct {
	token     string
	receiveID string
	key       []byte
	block     cipher.Block
	random    io.Reader
}

// NewCrypter returns a Crypter. It fails with ErrConfig when the token is empty
// or encodingAESKey is not 43 base64 characters that decode to 32 bytes.
// receiveID may be empty only where WeCom sends an empty one (智能机器人).
func NewCrypter(token, encodingAESKey, receiveID string) (*Crypter, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: empty token", ErrConfig)
	}
	if len(encodingAESKey) != encodingKeyLen {
		return nil, fmt.Errorf("%w: EncodingAESKey must be %d characters", ErrConfig, encodingKeyLen)
	}
	// The 43rd character carries 4 unused bits that WeCom does not zero, so the
	// lenient (non-Strict) decoder is the right one.
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%w: EncodingAESKey is not base64 of 32 bytes", ErrConfig)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return &Crypter{token: token, receiveID: receiveID, key: key, block: block, random: rand.Reader}, nil
}

// Signature returns WeCom's msg_signature: the lowercase hex SHA1 of token,
// timestamp, nonce and encrypted, sorted lexicographically and concatenated.
func Signature(token, timestamp, nonce, encrypted string) string {
	parts := []string{token, timestamp, nonce, encrypted}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

func (c *Crypter) checkSignature(msgSignature, timestamp, nonce, encrypted string) error {
	want := Signature(c.token, timestamp, nonce, encrypted)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(msgSignature)), []byte(want)) != 1 {
		return ErrSignature
	}
	return nil
}

// VerifyURL answers WeCom's URL check (GET ?msg_signature&timestamp&nonce&echostr).
// echostr must be the query value decoded exactly once (net/url's Query does
// that; decoding it again turns '+' into ' '). It returns the plaintext to echo
// back as the bare response body, or ErrSignature, ErrDecrypt or ErrReceiveID.
func (c *Crypter) VerifyURL(msgSignature, timestamp, nonce, echostr string) ([]byte, error) {
	if err := c.checkSignature(msgSignature, timestamp, nonce, echostr); err != nil {
		return nil, err
	}
	return c.open(echostr)
}

// envelope is the POST body: <xml><ToUserName/><AgentID/><Encrypt/></xml>.
type envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	AgentID    string   `xml:"AgentID"`
	Encrypt    string   `xml:"Encrypt"`
}

// Decrypt verifies and decrypts a callback POST body and returns the inner XML,
// ready for Parse. The signature covers the Encrypt element's text. It fails
// with ErrMalformed (body not the documented XML, or over MaxBodyBytes),
// ErrSignature, ErrDecrypt or ErrReceiveID.
func (c *Crypter) Decrypt(msgSignature, timestamp, nonce string, body []byte) ([]byte, error) {
	if len(body) > MaxBodyBytes {
		return nil, fmt.Errorf("%w: body over %d bytes", ErrMalformed, MaxBodyBytes)
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	encrypted := strings.TrimSpace(env.Encrypt)
	if encrypted == "" {
		return nil, fmt.Errorf("%w: no Encrypt element", ErrMalformed)
	}
	if err := c.checkSignature(msgSignature, timestamp, nonce, encrypted); err != nil {
		return nil, err
	}
	return c.open(encrypted)
}

// open decrypts one msg_encrypt value and checks its receive id.
func (c *Crypter) open(encrypted string) ([]byte, error) {
	data, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrDecrypt, err)
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext length %d", ErrDecrypt, len(data))
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(plain, data)
	plain, err = unpad(plain)
	if err != nil {
		return nil, err
	}
	if len(plain) < randomLen+lengthLen {
		return nil, fmt.Errorf("%w: plaintext too short", ErrDecrypt)
	}
	n := binary.BigEndian.Uint32(plain[randomLen : randomLen+lengthLen])
	rest := plain[randomLen+lengthLen:]
	if uint64(n) > uint64(len(rest)) {
		return nil, fmt.Errorf("%w: message length %d exceeds plaintext", ErrDecrypt, n)
	}
	msg, rid := rest[:n], rest[n:]
	if subtle.ConstantTimeCompare(rid, []byte(c.receiveID)) != 1 {
		return nil, ErrReceiveID
	}
	return bytes.Clone(msg), nil
}

// unpad strips PKCS#7 padding of 1..32 bytes, checking every pad byte.
func unpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty plaintext", ErrDecrypt)
	}
	p := int(b[len(b)-1])
	if p < 1 || p > padBlock || p > len(b) {
		return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
	}
	for _, v := range b[len(b)-p:] {
		if int(v) != p {
			return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
		}
	}
	return b[:len(b)-p], nil
}

// seal encrypts msg as WeCom does and returns the base64 ciphertext.
func (c *Crypter) seal(msg []byte) (string, error) {
	buf := make([]byte, randomLen+lengthLen, randomLen+lengthLen+len(msg)+len(c.receiveID)+padBlock)
	if _, err := io.ReadFull(c.random, buf[:randomLen]); err != nil {
		return "", fmt.Errorf("wecom: random bytes: %w", err)
	}
	if uint64(len(msg)) > uint64(^uint32(0)) {
		return "", fmt.Errorf("%w: message too long", ErrMalformed)
	}
	binary.BigEndian.PutUint32(buf[randomLen:], uint32(len(msg)))
	buf = append(buf, msg...)
	buf = append(buf, c.receiveID...)
	p := padBlock - len(buf)%padBlock
	buf = append(buf, bytes.Repeat([]byte{byte(p)}, p)...)
	cipher.NewCBCEncrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

type cdata struct {
	Text string `xml:",cdata"`
}

// reply is the encrypted passive-reply document WeCom expects.
type reply struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      cdata    `xml:"Encrypt"`
	MsgSignature cdata    `xml:"MsgSignature"`
	TimeStamp    string   `xml:"TimeStamp"`
	Nonce        cdata    `xml:"Nonce"`
}

// Encrypt encrypts plain (a reply message's XML) and returns the passive-reply
// document <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>. It fails
// only if random bytes cannot be read or plain exceeds MaxBodyBytes.
func (c *Crypter) Encrypt(plain []byte, timestamp, nonce string) ([]byte, error) {
	if len(plain) > MaxBodyBytes {
		return nil, fmt.Errorf("%w: message over %d bytes", ErrMalformed, MaxBodyBytes)
	}
	encrypted, err := c.seal(plain)
	if err != nil {
		return nil, err
	}
	out, err := xml.Marshal(reply{
		Encrypt:      cdata{encrypted},
		MsgSignature: cdata{Signature(c.token, timestamp, nonce, encrypted)},
		TimeStamp:    timestamp,
		Nonce:        cdata{nonce},
	})
	if err != nil {
		return nil, fmt.Errorf("wecom: encode reply: %w", err)
	}
	return out, nil
}
