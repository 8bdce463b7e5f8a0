package loader

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/internal/core"
	"github.com/zpoline-go/zpoline/internal/procmaps"
	"github.com/zpoline-go/zpoline/internal/rewrite"
	"github.com/zpoline-go/zpoline/internal/sitecache"
)

// ErrNoStubSpace: no low address was free for the jump stubs.
var ErrNoStubSpace = core.ErrNoStubSpace

// Why the code is written the way it is (the patching protocol):
//
//  1. Everything the rewritten sites will reach exists before the first site is
//     written: the trampoline (mapTrampoline), the stubs, the site set that the NULL
//     check consults.
//  2. Code is written through /proc/self/mem. That writes into read-only executable
//     text without changing its protection, so the text never becomes writable and
//     PR_SET_MDWE (no writable-and-executable memory) does not stop us.
//  3. Each site is compared with the bytes the scan saw immediately before it is
//     written; a site that changed is skipped.
//  4. Other threads may run while we write (the Go runtime's own threads call libc
//     through cgo). A 2-byte `syscall` -> `callq *%rax` write is a single store when
//     it lies within one cache line; a 7-byte jump write is not atomic. A thread that
//     executes a site at the very instant it is written can see a torn instruction:
//     the window is the few nanoseconds of one write, at start-up only, for the Go
//     runtime's threads only (the program's own threads do not exist yet).
//  5. The sites of one page are written together (one write per group), and pages
//     without a site are never written, so they stay shared with the page cache.
//  6. Clone-family sites are written first: from then on every new thread is made by
//     the loader and gets a block of its own (zp_dispatch.c explains the rest).
//
// Steps 1 (stubs and site set), 3, 5 and 6 are internal/core/zp_apply.c, shared with
// the warm start, which applies cached sites before the Go runtime is ready.

// Report describes what start-up did, for ZPOLINE_STATS and ZPOLINE_DEBUG.
type Report struct {
	LoaderPath string
	Mappings   []MappingReport
	Hook       string // which hook was installed, and how
	Elapsed    time.Duration
}

// MappingReport is one executable mapping: rewritten, or skipped with a reason.
type MappingReport struct {
	Mapping procmaps.Mapping
	Skipped string // why nothing was rewritten here, or ""
	Stats   rewrite.Stats
	Written int  // sites written
	Changed int  // sites whose bytes changed between scan and write
	Cached  bool // the sites came from the site cache (no decoding)
}

func (r *Report) String() string {
	var b strings.Builder
	var sites, jump, call, examined int
	for _, m := range r.Mappings {
		sites += m.Written
		jump += m.Stats.Jump
		call += m.Stats.Call
		examined += m.Stats.BytesExamined
	}
	fmt.Fprintf(&b, "loader: %s\n", r.LoaderPath)
	fmt.Fprintf(&b, "hook: %s\n", r.Hook)
	fmt.Fprintf(&b, "start-up: %s\n", r.Elapsed)
	fmt.Fprintf(&b, "sites rewritten: %d (jump %d, call %d); bytes examined: %d\n", sites, jump, call, examined)
	for _, m := range r.Mappings {
		name := m.Mapping.Path
		if name == "" {
			name = "[anon]"
		}
		if m.Skipped != "" {
			fmt.Fprintf(&b, "mapping %#x-%#x %s: skipped: %s\n", m.Mapping.Start, m.Mapping.End, name, m.Skipped)
			continue
		}
		from := "scanned"
		if m.Cached {
			from = "cached"
		}
		fmt.Fprintf(&b, "mapping %#x-%#x %s: %d sites (jump %d, call %d), %d rejected, %d changed before write, %s\n",
			m.Mapping.Start, m.Mapping.End, name, m.Written, m.Stats.Jump, m.Stats.Call, m.Stats.Rejected, m.Changed, from)
	}
	return b.String()
}

// rewriteProcess finds and rewrites every system call in the executable mappings.
func rewriteProcess(mem *os.File, cfg Config, rep *Report) error {
	maps, err := procmaps.Self()
	if err != nil {
		return fmt.Errorf("read /proc/self/maps: %w", err)
	}
	self, ok := ownMapping(maps, core.EntryCall())
	if !ok {
		return errors.New("cannot find the loader's own mapping in /proc/self/maps")
	}
	rep.LoaderPath = self.Path
	readableMaps = readableMaps[:0]
	for _, m := range maps {
		if m.Read && m.Exec {
			readableMaps = append(readableMaps, m)
		}
	}
	images := map[string]*rewrite.Image{}
	var all []rewrite.Site
	for _, m := range maps {
		if !m.Exec {
			continue
		}
		mr := MappingReport{Mapping: m}
		if reason := skipReason(m, self, cfg.Exclude); reason != "" {
			mr.Skipped = reason
			rep.Mappings = append(rep.Mappings, mr)
			continue
		}
		// Readable code is scanned in place (no copy: start-up stays below the Go
		// runtime's first garbage collection); execute-only code is read through
		// /proc/self/mem.
		var code []byte
		if m.Read {
			code = core.Memory(m.Start, m.Size())
		} else {
			code = make([]byte, m.Size())
			if _, err := mem.ReadAt(code, int64(m.Start)); err != nil {
				mr.Skipped = "unreadable: " + err.Error()
				rep.Mappings = append(rep.Mappings, mr)
				continue
			}
		}
		fileKey, isFile := cacheKey(m)
		key, cacheable := fileKey, isFile
		if m.Path == "[vdso]" {
			key, cacheable = vdsoKey(code), true
		}
		cacheable = cacheable && cfg.CacheDir != ""
		var sites []rewrite.Site
		var st rewrite.Stats
		if cacheable {
			if cached, err := sitecache.Load(cfg.CacheDir, key, m.Start); err == nil {
				sites, mr.Cached = cached, true
				for _, s := range sites {
					if s.Shape == rewrite.ShapeJump {
						st.Jump++
					} else {
						st.Call++
					}
				}
			} else if cfg.Debug && !errors.Is(err, fs.ErrNotExist) {
				logf("site cache: %v", err)
			}
		}
		if !mr.Cached {
			img, err := imageFor(images, m, code)
			if err != nil {
				mr.Skipped = err.Error()
				rep.Mappings = append(rep.Mappings, mr)
				continue
			}
			sites, st, err = img.ScanMapping(m, code)
			if err != nil {
				mr.Skipped = err.Error()
				rep.Mappings = append(rep.Mappings, mr)
				continue
			}
			if cacheable {
				if err := sitecache.Store(cfg.CacheDir, key, m.Start, sites); err != nil && cfg.Debug {
					logf("site cache: %v", err)
				}
			}
		}
		mr.Stats = st
		if isFile {
			registerFile(fileKey, m, sites) // for the C path of later mmaps of this file
		}
		if cfg.Debug {
			for _, s := range sites {
				logf("site %s: %s", m.Path, s)
			}
			for _, r := range st.Rejects {
				logf("skip %s: %s", m.Path, r)
			}
			for _, r := range st.Demoted {
				logf("call-shape %s: %s", m.Path, r)
			}
		}
		all = append(all, sites...)
		rep.Mappings = append(rep.Mappings, mr)
	}
	written, changed, err := applySites(mem, all)
	if err != nil {
		return err
	}
	for i := range rep.Mappings {
		m := &rep.Mappings[i]
		for a, ok := range written {
			if ok && m.Mapping.Contains(a) {
				m.Written++
			}
		}
		for _, a := range changed {
			if m.Mapping.Contains(a) {
				m.Changed++
			}
		}
	}
	return nil
}

// cacheKey identifies a file-backed mapping for the site cache: the file at its path
// must still be the one mapped (same device and inode).
func cacheKey(m procmaps.Mapping) (sitecache.Key, bool) {
	if !strings.HasPrefix(m.Path, "/") || m.Inode == 0 {
		return sitecache.Key{}, false
	}
	var st syscall.Stat_t
	if err := syscall.Stat(m.Path, &st); err != nil || st.Ino != m.Inode ||
		unix.Major(st.Dev) != m.DevMajor || unix.Minor(st.Dev) != m.DevMinor {
		return sitecache.Key{}, false
	}
	return sitecache.Key{Dev: st.Dev, Ino: st.Ino, Size: st.Size, MtimeNs: st.Mtim.Nano(),
		Offset: m.Offset, Length: m.Size()}, true
}

// vdsoKey identifies the vDSO for the site cache by its bytes (it has no file): the
// same kernel maps the same vDSO into every process, so its sites are decoded once.
// The warm start (internal/core/zp_warm.c) computes the same key: FNV-1a of the bytes.
// Every cached site is still checked against memory before it is written.
func vdsoKey(code []byte) sitecache.Key {
	h := fnv.New64a()
	h.Write(code)
	return sitecache.Key{Ino: h.Sum64(), Size: int64(len(code)), Length: uint64(len(code))}
}

// ownMapping finds the mapping that holds addr (an address inside the loader).
func ownMapping(maps []procmaps.Mapping, addr uint64) (procmaps.Mapping, bool) {
	for _, m := range maps {
		if m.Contains(addr) {
			return m, true
		}
	}
	return procmaps.Mapping{}, false
}

// skipReason says why an executable mapping is not rewritten, or "".
func skipReason(m, self procmaps.Mapping, exclude []string) string {
	switch {
	case m.Inode != 0 && m.Inode == self.Inode && m.DevMajor == self.DevMajor && m.DevMinor == self.DevMinor:
		return "the loader itself"
	case m.Start < 1<<31 && m.Path == "":
		return "zpoline's own low memory"
	case m.Path == "[vsyscall]":
		return "vsyscall page (fixed, emulated by the kernel)"
	case m.Path == "" || strings.HasPrefix(m.Path, "[anon"):
		return "anonymous executable memory (not an ELF image)"
	}
	for _, e := range exclude {
		// A name with a slash is a path; without, it matches the file name.
		if m.Path == e || !strings.Contains(e, "/") && filepath.Base(m.Path) == e {
			return "excluded by ZPOLINE_EXCLUDE"
		}
	}
	return ""
}

// imageFor returns the ELF image behind m, read once per file; the vDSO is parsed
// from its own bytes.
func imageFor(cache map[string]*rewrite.Image, m procmaps.Mapping, code []byte) (*rewrite.Image, error) {
	if img, ok := cache[m.Path]; ok {
		return img, nil
	}
	var f *elf.File
	var err error
	if m.Path == "[vdso]" {
		f, err = elf.NewFile(bytes.NewReader(code))
	} else if strings.HasPrefix(m.Path, "/") {
		var file *os.File
		f, file, err = openELF(strings.TrimSuffix(m.Path, " (deleted)"))
		if file != nil {
			defer file.Close()
		}
	} else {
		return nil, fmt.Errorf("no ELF file behind %q", m.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("read ELF: %v", err)
	}
	img, err := rewrite.NewImage(f)
	if err != nil {
		return nil, err
	}
	cache[m.Path] = img
	return img, nil
}

// applySites writes the stubs, publishes the site set, then rewrites every site.
// It returns which sites were written and which had changed since the scan.
func applySites(mem *os.File, sites []rewrite.Site) (map[uint64]bool, []uint64, error) {
	return applySitesWith(mem, sites, false)
}

// applySitesWith is applySites; with add, the callq sites are added to the set the
// entry accepts instead of replacing it (code made executable after start-up).
func applySitesWith(mem *os.File, sites []rewrite.Site, add bool) (map[uint64]bool, []uint64, error) {
	ranges := make([]core.Range, 0, len(readableMaps))
	for _, m := range readableMaps {
		ranges = append(ranges, core.Range{Start: m.Start, End: m.End})
	}
	ok, err := core.ApplySites(int(mem.Fd()), sites, ranges, add)
	if err != nil {
		return nil, nil, fmt.Errorf("rewrite sites: %w", err)
	}
	written := make(map[uint64]bool, len(sites))
	var changed []uint64
	for i, s := range sites {
		written[s.Addr] = ok[i]
		if !ok[i] {
			changed = append(changed, s.Addr)
		}
	}
	return written, changed, nil
}

// readableMaps are the readable executable mappings of the process, as scanned.
var readableMaps []procmaps.Mapping

// openELF opens an ELF file without os.Open, which would start the Go runtime's network
// poller and leave its descriptors in the program. The caller closes the *os.File.
func openELF(path string) (*elf.File, *os.File, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	ef, err := elf.NewFile(f)
	return ef, f, err
}
