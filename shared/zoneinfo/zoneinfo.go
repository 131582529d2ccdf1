// Package zoneinfo is time/tzdata at a fifth of its size: the same IANA time
// zone database (the Go toolchain's lib/time/zoneinfo.zip), gzipped, registered
// with the time package the way time/tzdata registers itself. Lambda's
// provided.al2023 image has no zoneinfo to rely on, so every function that reads
// a tenant's zone imports this instead of time/tzdata, whose uncompressed zip
// added 400 KB to each binary (issue 14). As with time/tzdata, time.LoadLocation
// reads the system's zoneinfo first and this only when that fails; the data is
// decompressed on the first such call, never at start.
//
// zoneinfo.gz is written by `go generate ./shared/zoneinfo` from the toolchain's
// zip; TestMatchesToolchain fails when a Go upgrade brings newer zones.
package zoneinfo

//go:generate go run gen.go

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"
	"syscall"
	_ "unsafe" // for go:linkname, as time/tzdata
)

// data is a gzip stream of records: a zone's name, a NUL, its TZif file's length
// (4 bytes, little-endian) and the file.
//
//go:embed zoneinfo.gz
var data []byte

// registerLoadFromEmbeddedTZData is the time package's hook for time/tzdata
// (marked there for linking from outside the standard library).
//
//go:linkname registerLoadFromEmbeddedTZData time.registerLoadFromEmbeddedTZData
func registerLoadFromEmbeddedTZData(func(string) (string, error))

func init() { registerLoadFromEmbeddedTZData(load) }

// zones are the TZif files by zone name, read from data on first use.
var zones = sync.OnceValues(func() (map[string]string, error) { return decode(data) })

// load is a zone's TZif file, or syscall.ENOENT as time/tzdata answers an
// unknown zone.
func load(name string) (string, error) {
	z, err := zones()
	if err != nil {
		return "", err
	}
	f, ok := z[name]
	if !ok {
		return "", syscall.ENOENT
	}
	return f, nil
}

// decode reads the records of a gzipped database.
func decode(gz []byte) (map[string]string, error) {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	rest := string(raw)
	zones := make(map[string]string, 600)
	for rest != "" {
		name, tail, ok := strings.Cut(rest, "\x00")
		if !ok || len(tail) < 4 {
			return nil, errors.New("zoneinfo: corrupt database")
		}
		n := int(binary.LittleEndian.Uint32([]byte(tail[:4])))
		if tail = tail[4:]; n > len(tail) {
			return nil, errors.New("zoneinfo: corrupt database")
		}
		zones[name], rest = tail[:n], tail[n:]
	}
	return zones, nil
}
