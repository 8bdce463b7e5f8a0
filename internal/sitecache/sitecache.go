// Package sitecache keeps the sites found in an executable mapping of a file, so that
// the next process that maps the same file skips parsing and decoding it.
//
// A cache entry is keyed by the file's device, inode, size and modification time (all
// from the mapping and a stat that must agree with it) and by the mapping's file offset
// and length; its sites are stored relative to the mapping's start. Nothing in it is
// trusted for correctness: the loader compares every site with the bytes in memory
// immediately before rewriting it, so a stale or corrupt entry can only cost a site.
// It is not read at all unless the directory and the file belong to the current user
// and are writable by nobody else, and it is written atomically (temporary file, rename).
package sitecache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/zpoline-go/zpoline/internal/rewrite"
)

// ErrUntrusted is returned when the cache directory or file could be changed by
// another user, so its contents are not used.
var ErrUntrusted = errors.New("cache not owned by this user or writable by others")

// ErrFormat is returned for a cache file that is not one this package wrote.
var ErrFormat = errors.New("malformed cache file")

// Key identifies one executable mapping of one version of a file.
type Key struct {
	Dev, Ino uint64 // of the mapped file (from /proc/self/maps)
	Size     int64  // of the file (stat)
	MtimeNs  int64  // of the file (stat)
	Offset   uint64 // file offset of the mapping
	Length   uint64 // length of the mapping
}

// name is the cache file name for k: all of it, so a different version never collides.
func (k Key) name() string {
	return fmt.Sprintf("%x-%x-%x-%x-%x-%x.sites", k.Dev, k.Ino, k.Size, k.MtimeNs, k.Offset, k.Length)
}

// Dir returns the cache directory: $XDG_CACHE_HOME/zpoline, else $HOME/.cache/zpoline,
// else /tmp/zpoline-UID.
func Dir(getenv func(string) string) string {
	if d := getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "zpoline")
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".cache", "zpoline")
	}
	return fmt.Sprintf("/tmp/zpoline-%d", os.Getuid())
}

// trusted reports whether st (of a directory or file) is owned by this user and not
// writable by group or others.
func trusted(st *syscall.Stat_t) bool {
	return int(st.Uid) == os.Geteuid() && st.Mode&0o022 == 0
}

const magic = "zpoline-sites-1\n"

// Load returns the sites of the mapping that starts at start, or an error: the file
// does not exist (fs.ErrNotExist), ErrUntrusted, or ErrFormat.
func Load(dir string, k Key, start uint64) ([]rewrite.Site, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	if !trusted(&st) {
		return nil, fmt.Errorf("%s: %w", dir, ErrUntrusted)
	}
	path := filepath.Join(dir, k.name())
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	// Not os.Open: it would start the Go runtime's network poller in the program.
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if !trusted(&st) {
		return nil, fmt.Errorf("%s: %w", path, ErrUntrusted)
	}
	data := make([]byte, st.Size)
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, err
	}
	sites, err := decode(data, k, start)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sites, nil
}

// Store writes the sites of the mapping at start for key k, atomically. It creates dir
// (mode 0700) if needed and refuses an untrusted one.
func Store(dir string, k Key, start uint64, sites []rewrite.Site) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return err
	}
	if !trusted(&st) {
		return fmt.Errorf("%s: %w", dir, ErrUntrusted)
	}
	data := encode(k, start, sites)
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d.tmp", k.name(), os.Getpid()))
	fd, err := syscall.Open(tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "create", Path: tmp, Err: err}
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, filepath.Join(dir, k.name()))
	}
	if werr != nil {
		os.Remove(tmp)
	}
	return werr
}

// The format: magic, the key (6 x u64), the site count (u32), then per site:
// offset from the mapping start of Addr and of Start (u64 each), Nr (i64),
// Insn, Shape, len(Prefix) (u8 each), Prefix.
func encode(k Key, start uint64, sites []rewrite.Site) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	for _, v := range []uint64{k.Dev, k.Ino, uint64(k.Size), uint64(k.MtimeNs), k.Offset, k.Length} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	binary.Write(&b, binary.LittleEndian, uint32(len(sites)))
	for _, s := range sites {
		binary.Write(&b, binary.LittleEndian, []uint64{s.Addr - start, s.Start - start, uint64(s.Nr)})
		b.Write([]byte{byte(s.Insn), byte(s.Shape), byte(len(s.Prefix))})
		b.Write(s.Prefix)
	}
	return b.Bytes()
}

// decode parses data written by encode for key k; it never panics.
func decode(data []byte, k Key, start uint64) ([]rewrite.Site, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, ErrFormat
	}
	p := data[len(magic):]
	u64 := func() (uint64, bool) {
		if len(p) < 8 {
			return 0, false
		}
		v := binary.LittleEndian.Uint64(p)
		p = p[8:]
		return v, true
	}
	for _, want := range []uint64{k.Dev, k.Ino, uint64(k.Size), uint64(k.MtimeNs), k.Offset, k.Length} {
		if v, ok := u64(); !ok || v != want {
			return nil, ErrFormat
		}
	}
	if len(p) < 4 {
		return nil, ErrFormat
	}
	n := binary.LittleEndian.Uint32(p)
	p = p[4:]
	if uint64(n) > uint64(len(p))/27+1 {
		return nil, ErrFormat
	}
	sites := make([]rewrite.Site, 0, n)
	for i := uint32(0); i < n; i++ {
		addr, ok1 := u64()
		st, ok2 := u64()
		nr, ok3 := u64()
		if !ok1 || !ok2 || !ok3 || len(p) < 3 {
			return nil, ErrFormat
		}
		insn, shape, plen := rewrite.Insn(p[0]), rewrite.Shape(p[1]), int(p[2])
		p = p[3:]
		if len(p) < plen || addr >= k.Length || st > addr || addr-st != uint64(plen) ||
			(shape != rewrite.ShapeCall && shape != rewrite.ShapeJump) ||
			(insn != rewrite.InsnSyscall && insn != rewrite.InsnSysenter) ||
			(shape == rewrite.ShapeJump) != (plen > 0) {
			return nil, ErrFormat
		}
		s := rewrite.Site{Addr: start + addr, Start: start + st, Nr: int64(nr), Insn: insn, Shape: shape}
		if plen > 0 {
			s.Prefix = bytes.Clone(p[:plen])
		}
		p = p[plen:]
		sites = append(sites, s)
	}
	if len(p) != 0 {
		return nil, ErrFormat
	}
	return sites, nil
}
