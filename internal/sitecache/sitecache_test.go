package sitecache

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/zpoline-go/zpoline/internal/rewrite"
)

var testKey = Key{Dev: 0xfe00, Ino: 42, Size: 123456, MtimeNs: 1e18, Offset: 0x26000, Length: 0x156000}

func testSites(start uint64) []rewrite.Site {
	return []rewrite.Site{
		{Addr: start + 0x105, Start: start + 0x100, Insn: rewrite.InsnSyscall, Shape: rewrite.ShapeJump, Nr: 39,
			Prefix: []byte{0xb8, 0x27, 0, 0, 0}},
		{Addr: start + 0x200, Start: start + 0x200, Insn: rewrite.InsnSyscall, Shape: rewrite.ShapeCall, Nr: -1},
		{Addr: start + 0x3fff, Start: start + 0x3ffa, Insn: rewrite.InsnSyscall, Shape: rewrite.ShapeJump, Nr: -1,
			Prefix: []byte{0x4c, 0x8b, 0x4c, 0x24, 0x08}},
	}
}

func privateDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "zpoline")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestStoreLoadRoundTripAtAnotherAddress(t *testing.T) {
	dir := privateDir(t)
	if err := Store(dir, testKey, 0x7f0000000000, testSites(0x7f0000000000)); err != nil {
		t.Fatal(err)
	}
	// The next process maps the file elsewhere: sites move with the mapping.
	got, err := Load(dir, testKey, 0x7e0000001000)
	if err != nil {
		t.Fatal(err)
	}
	if want := testSites(0x7e0000001000); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestLoadMissesOtherVersions(t *testing.T) {
	dir := privateDir(t)
	if err := Store(dir, testKey, 0, testSites(0)); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Key{
		func() Key { k := testKey; k.MtimeNs++; return k }(),
		func() Key { k := testKey; k.Size++; return k }(),
		func() Key { k := testKey; k.Ino++; return k }(),
		func() Key { k := testKey; k.Offset = 0; return k }(),
	} {
		if _, err := Load(dir, k, 0); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("key %+v: err = %v, want not found", k, err)
		}
	}
}

func TestUntrustedCacheIsNotUsed(t *testing.T) {
	dir := privateDir(t)
	if err := Store(dir, testKey, 0, testSites(0)); err != nil {
		t.Fatal(err)
	}
	// A file another user could have written.
	f := filepath.Join(dir, testKey.name())
	if err := os.Chmod(f, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, testKey, 0); !errors.Is(err, ErrUntrusted) {
		t.Errorf("group/world-writable file: err = %v, want ErrUntrusted", err)
	}
	// A directory another user could write into.
	os.Chmod(f, 0o600)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, testKey, 0); !errors.Is(err, ErrUntrusted) {
		t.Errorf("world-writable directory: err = %v, want ErrUntrusted", err)
	}
	if err := Store(dir, testKey, 0, testSites(0)); !errors.Is(err, ErrUntrusted) {
		t.Errorf("Store into a world-writable directory: err = %v, want ErrUntrusted", err)
	}
}

func TestCorruptCacheIsRejected(t *testing.T) {
	good := encode(testKey, 0, testSites(0))
	for i := 0; i < len(good); i++ {
		for _, b := range []byte{0x00, 0xff, good[i] ^ 0x80} {
			data := bytes.Clone(good)
			data[i] = b
			// Any outcome but a panic is fine; a decoded result must be self-consistent.
			if sites, err := decode(data, testKey, 0); err == nil {
				for _, s := range sites {
					if s.Addr-s.Start != uint64(len(s.Prefix)) {
						t.Fatalf("byte %d: inconsistent site %v", i, s)
					}
				}
			}
		}
	}
	if _, err := decode(good[:len(good)-1], testKey, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated file: err = %v, want ErrFormat", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(testKey, 0, testSites(0)))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		decode(data, testKey, 0x1000) // must not panic
	})
}

func TestDir(t *testing.T) {
	env := map[string]string{"XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"}
	get := func(k string) string { return env[k] }
	if d := Dir(get); d != "/x/cache/zpoline" {
		t.Errorf("Dir = %q", d)
	}
	env["XDG_CACHE_HOME"] = "relative"
	if d := Dir(get); d != "/home/u/.cache/zpoline" {
		t.Errorf("Dir = %q", d)
	}
	delete(env, "HOME")
	if d := Dir(get); !filepath.IsAbs(d) {
		t.Errorf("Dir = %q", d)
	}
}
