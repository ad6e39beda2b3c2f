package kernellab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPickNewest(t *testing.T) {
	names := []string{
		"linux-image-6.1.0-9-cloud-amd64",
		"linux-image-6.1.0-56-cloud-amd64",
		"linux-image-6.1.0-56-cloud-amd64-dbg",
		"linux-image-6.1.0-57-cloud-amd64-unsigned",
		"linux-image-6.1.0-50-amd64",
		"linux-image-cloud-amd64",
		"linux-image-6.12-cloud-amd64",
		"linux-image-6.12.9+bpo-cloud-amd64",
		"linux-image-6.12.117+deb12-cloud-amd64",
		"linux-image-6.12.100+deb12-cloud-amd64",
		"linux-image-6.10.3-cloud-amd64",
	}
	tests := []struct {
		series, flavour, want string
	}{
		{"6.1", "cloud-amd64", "linux-image-6.1.0-56-cloud-amd64"},
		{"6.12", "cloud-amd64", "linux-image-6.12.117+deb12-cloud-amd64"},
		{"6.10", "cloud-amd64", "linux-image-6.10.3-cloud-amd64"},
		{"6.1", "amd64", "linux-image-6.1.0-50-amd64"},
		{"5.10", "cloud-amd64", ""},
		{"6", "cloud-amd64", ""},
	}
	for _, tt := range tests {
		got, all := pickNewest(names, tt.series, tt.flavour)
		if got != tt.want {
			t.Errorf("pickNewest(%s, %s) = %q, want %q", tt.series, tt.flavour, got, tt.want)
		}
		for _, n := range all {
			if strings.HasSuffix(n, "-dbg") || strings.HasSuffix(n, "-unsigned") || n == "linux-image-cloud-amd64" || n == "linux-image-6.12-cloud-amd64" {
				t.Errorf("pickNewest considered %s", n)
			}
		}
	}
}

func TestCompareRelease(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"6.1.0-56-cloud-amd64", "6.1.0-9-cloud-amd64", 1},
		{"6.12.117+deb12-cloud-amd64", "6.12.9+bpo-cloud-amd64", 1},
		{"6.12.100+deb12-cloud-amd64", "6.12.117+deb12-cloud-amd64", -1},
		{"6.1.0-56-cloud-amd64", "6.1.0-56-cloud-amd64", 0},
	}
	for _, tt := range tests {
		got := compareRelease(tt.a, tt.b)
		if (got > 0) != (tt.want > 0) || (got < 0) != (tt.want < 0) {
			t.Errorf("compareRelease(%s, %s) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestKernelCacheOffline(t *testing.T) {
	dir := t.TempDir()
	kc := KernelCache{Dir: dir, Offline: true}
	_, err := kc.Get(context.Background(), KernelSpec{Series: "6.1"})
	if err == nil || !strings.Contains(err.Error(), "no cached image") {
		t.Fatalf("empty offline cache: err %v, want 'no cached image'", err)
	}
	for _, rel := range []string{"6.1.0-50-cloud-amd64", "6.1.0-56-cloud-amd64", "6.12.117+deb12-cloud-amd64"} {
		d := filepath.Join(dir, "kernels", rel)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "vmlinuz"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		meta := `{"series":"","package":"linux-image-` + rel + `","version":"1","release":"` + rel + `"}`
		if err := os.WriteFile(filepath.Join(d, "kernel.json"), []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k, err := kc.Get(context.Background(), KernelSpec{Series: "6.1"})
	if err != nil {
		t.Fatal(err)
	}
	if k.Release != "6.1.0-56-cloud-amd64" || k.Series != "6.1" || filepath.Base(k.Vmlinuz) != "vmlinuz" {
		t.Errorf("cached 6.1 = %+v", k)
	}
	k, err = kc.Get(context.Background(), KernelSpec{Series: "6.12"})
	if err != nil || k.Release != "6.12.117+deb12-cloud-amd64" {
		t.Errorf("cached 6.12 = %+v, %v", k, err)
	}
}

func TestKernelSpecVmlinuz(t *testing.T) {
	kc := KernelCache{Dir: t.TempDir()}
	if _, err := kc.Get(context.Background(), KernelSpec{Series: "x", Vmlinuz: "/nonexistent/vmlinuz"}); err == nil {
		t.Error("missing -vmlinuz file accepted")
	}
	img := filepath.Join(t.TempDir(), "bzImage")
	if err := os.WriteFile(img, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := kc.Get(context.Background(), KernelSpec{Series: "x", Vmlinuz: img})
	if err != nil || k.Vmlinuz != img {
		t.Errorf("Get with Vmlinuz = %+v, %v", k, err)
	}
}
