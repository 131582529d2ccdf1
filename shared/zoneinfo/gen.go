//go:build ignore

// gen writes zoneinfo.gz from the Go toolchain's zoneinfo.zip (the zones
// time/tzdata embeds): go generate ./shared/zoneinfo.
package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
)

func main() {
	zr, err := zip.OpenReader(filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		log.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			log.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			log.Fatal(err)
		}
		gz.Write([]byte(f.Name + "\x00"))
		gz.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(b))))
		gz.Write(b)
	}
	if err := gz.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("zoneinfo.gz", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
