package zoneinfo

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestMatchesToolchain: the database holds exactly the toolchain's zones, file for
// file (run go generate ./shared/zoneinfo after a Go upgrade when it fails).
func TestMatchesToolchain(t *testing.T) {
	path := filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no toolchain zoneinfo: %v", err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	zones, err := zones()
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != len(zr.File) {
		t.Errorf("%d zones, the toolchain has %d: go generate ./shared/zoneinfo", len(zones), len(zr.File))
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		want, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got, err := load(f.Name)
		if err != nil || got != string(want) {
			t.Errorf("%s: %d bytes, err %v; the toolchain's has %d: go generate ./shared/zoneinfo", f.Name, len(got), err, len(want))
		}
	}
}

func TestLoad(t *testing.T) {
	if _, err := load("Nowhere/Atlantis"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("unknown zone: %v, want ENOENT", err)
	}
	tzif, err := load("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocationFromTZData("Asia/Shanghai", []byte(tzif))
	if err != nil {
		t.Fatal(err)
	}
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Zone(); off != 8*3600 {
		t.Errorf("Asia/Shanghai offset %d", off)
	}
}
