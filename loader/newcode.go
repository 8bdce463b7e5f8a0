package loader

/*
#include <stdint.h>
void *zp_loader_newcode_fn(void);
*/
import "C"

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/internal/core"
	"github.com/zpoline-go/zpoline/internal/procmaps"
	"github.com/zpoline-go/zpoline/internal/rewrite"
	"github.com/zpoline-go/zpoline/internal/sitecache"
)

// Code made executable after start-up (internal/core/zp_newcode.c decides when this
// runs; it holds the new-code lock, so calls never overlap):
//
//  1. A file mapping (dlopen, ld.so's own mappings) is scanned exactly as at start-up:
//     site cache, else the ELF image's function ranges and the decoder; jump-shaped
//     sites get stubs in a new low page, call-shaped ones join the site set, and every
//     site is byte-verified just before it is written through /proc/self/mem. A mapping
//     already rewritten (an mprotect of existing text) has no `syscall` left at its
//     sites: the byte check skips them, so nothing is rewritten twice.
//  2. Anonymous code (JIT) has no function ranges. A byte pair is a site only if a linear
//     sweep from the start of the mapping lands on it AND decoding from several points
//     64 to 256 bytes before it lands on it too (rewrite.FindSites with no ranges); such
//     sites always get the call shape, since a branch into a jump-shaped site's displaced
//     bytes cannot be ruled out. Bytes that look like `0f 05` in data between JIT
//     functions are changed only if both decodings step exactly onto them.
//  3. Memory of the hook namespaces (mapped while start-up loaded them) is never scanned.

// ErrNewCodeScan: a new executable mapping could not be scanned; nothing was written.
var ErrNewCodeScan = errors.New("scan new executable code")

// newCode is the loader's state for code made executable after start-up.
var newCode struct {
	cfg    Config
	self   procmaps.Mapping
	images map[string]*rewrite.Image // by path and inode (imageKey)
}

var (
	newCodeOnce sync.Once
	newCodeErr  error
)

// enableNewCode makes zp_newcode.c call zpolineNewCode from now on. It runs once: at the
// end of the Go start-up, or after a warm start (which points zp_newcode.c at
// zpolineNewCode itself) at the first new code.
func enableNewCode(cfg Config) error {
	newCodeOnce.Do(func() { newCodeErr = setupNewCode(cfg) })
	return newCodeErr
}

func setupNewCode(cfg Config) error {
	maps, err := procmaps.Self()
	if err != nil {
		return fmt.Errorf("read /proc/self/maps: %w", err)
	}
	self, ok := ownMapping(maps, core.EntryCall())
	if !ok {
		return errors.New("cannot find the loader's own mapping in /proc/self/maps")
	}
	newCode.cfg = cfg
	newCode.self = self
	newCode.images = map[string]*rewrite.Image{}
	core.SetNewCodeFunc(C.zp_loader_newcode_fn())
	return nil
}

// newCodeWorker serves the threads where Go cannot run but the process's Go runtime is
// alive (raw clone threads sharing their creator's TLS, vfork children, signal handlers
// under a Go hook): they hand their range to it and wait (zp_newcode.c).
func newCodeWorker() {
	runtime.LockOSThread()
	for {
		start, length, nr := core.NewCodeWait()
		core.NewCodeDone(int64(zpolineNewCode(C.uint64_t(start), C.uint64_t(length), C.uint64_t(nr))))
	}
}

//export zpolineNewCode
func zpolineNewCode(start, length, nr C.uint64_t) C.int64_t {
	if err := enableNewCode(ConfigFromEnv(os.Getenv)); err != nil {
		return -1
	}
	n, err := rewriteNewCode(uint64(start), uint64(start)+uint64(length))
	if err != nil {
		if newCode.cfg.Debug {
			logf("new code %#x+%#x (syscall %d): %v", uint64(start), uint64(length), uint64(nr), err)
		}
		return -1
	}
	return C.int64_t(n)
}

// rewriteNewCode rewrites the executable mappings that overlap [start, end) and returns
// the number of sites written.
func rewriteNewCode(start, end uint64) (int, error) {
	maps, err := procmaps.Self()
	if err != nil {
		return 0, fmt.Errorf("%w: read /proc/self/maps: %v", ErrNewCodeScan, err)
	}
	readableMaps = readableMaps[:0]
	for _, m := range maps {
		if m.Read && m.Exec {
			readableMaps = append(readableMaps, m)
		}
	}
	fd, err := unix.Open("/proc/self/mem", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrProcMem, err)
	}
	mem := os.NewFile(uintptr(fd), "/proc/self/mem")
	defer mem.Close()
	total := 0
	for _, m := range maps {
		if !m.Exec || m.End <= start || m.Start >= end {
			continue
		}
		t0 := time.Now()
		name := m.Path
		if name == "" {
			name = "[anon]"
		}
		if reason := newCodeSkip(m); reason != "" {
			core.LogNewCode(m.Start, m.End, core.NewCodeSkipped, 0, 0, name+": "+reason)
			continue
		}
		sites, err := scanNew(mem, m)
		if err != nil {
			core.LogNewCode(m.Start, m.End, core.NewCodeSkipped, 0, 0, name+": "+err.Error())
			return total, err
		}
		if newCode.cfg.Debug {
			for _, s := range sites {
				logf("new code site %s: %s", name, s)
			}
		}
		written, _, err := applySitesWith(mem, sites, true)
		if err != nil {
			return total, err
		}
		n := 0
		for _, ok := range written {
			if ok {
				n++
			}
		}
		total += n
		core.LogNewCode(m.Start, m.End, core.NewCodeGo, n, time.Since(t0).Nanoseconds(), name)
	}
	return total, nil
}

// newCodeSkip says why a new executable mapping is not rewritten, or "".
func newCodeSkip(m procmaps.Mapping) string {
	if core.NewCodeExcluded(m.Start, m.End) {
		return "hook namespace"
	}
	switch reason := skipReason(m, newCode.self, newCode.cfg.Exclude); reason {
	case "anonymous executable memory (not an ELF image)":
		return "" // JIT code: scanned with the anonymous-code rule
	default:
		return reason
	}
}

// scanNew finds the sites of one new executable mapping.
func scanNew(mem *os.File, m procmaps.Mapping) ([]rewrite.Site, error) {
	var code []byte
	if m.Read {
		code = core.Memory(m.Start, m.Size())
	} else {
		code = make([]byte, m.Size())
		if _, err := mem.ReadAt(code, int64(m.Start)); err != nil {
			return nil, fmt.Errorf("%w: %#x-%#x: %v", ErrNewCodeScan, m.Start, m.End, err)
		}
	}
	if m.Path == "" || strings.HasPrefix(m.Path, "[anon") || m.Path == "[heap]" || m.Path == "[stack]" {
		return scanAnonymous(code, m.Start), nil
	}
	key, cacheable := cacheKey(m)
	if cacheable && newCode.cfg.CacheDir != "" {
		if sites, err := sitecache.Load(newCode.cfg.CacheDir, key, m.Start); err == nil {
			registerFile(key, m, sites)
			return sites, nil
		} else if newCode.cfg.Debug && !errors.Is(err, fs.ErrNotExist) {
			logf("site cache: %v", err)
		}
	}
	ik := fmt.Sprintf("%s\x00%d", m.Path, m.Inode)
	img, ok := newCode.images[ik]
	if !ok {
		cache := map[string]*rewrite.Image{}
		var err error
		if img, err = imageFor(cache, m, code); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrNewCodeScan, m.Path, err)
		}
		newCode.images[ik] = img
	}
	if !hasText(img, m) {
		// A page of a file's data made executable at run time (code written into
		// .data, then mprotect): no executable section, no metadata to trust.
		return scanAnonymous(code, m.Start), nil
	}
	sites, _, err := img.ScanMapping(m, code)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNewCodeScan, m.Path, err)
	}
	if cacheable {
		registerFile(key, m, sites)
		if newCode.cfg.CacheDir != "" {
			if err := sitecache.Store(newCode.cfg.CacheDir, key, m.Start, sites); err != nil && newCode.cfg.Debug {
				logf("site cache: %v", err)
			}
		}
	}
	return sites, nil
}

// scanAnonymous finds the sites of code without metadata (see the rule above): a site
// must be found both by a linear sweep from base and by resync windows. All get
// ShapeCall.
func scanAnonymous(code []byte, base uint64) []rewrite.Site {
	linear, _ := rewrite.FindSites(code, base, []rewrite.Range{{Start: base, End: base + uint64(len(code))}})
	windows, _ := rewrite.FindSites(code, base, nil)
	confirmed := map[uint64]bool{}
	for _, s := range windows {
		confirmed[s.Addr] = true
	}
	var out []rewrite.Site
	for _, s := range linear {
		if confirmed[s.Addr] {
			out = append(out, rewrite.Site{Addr: s.Addr, Insn: s.Insn, Shape: rewrite.ShapeCall,
				Start: s.Addr, Nr: -1})
		}
	}
	return out
}

// registerFile gives the sites of a file mapping to the C path (fork and vfork
// children), which applies them to later mmaps of the same file range.
func registerFile(k sitecache.Key, m procmaps.Mapping, sites []rewrite.Site) {
	rel := make([]uint32, 0, len(sites))
	for _, s := range sites {
		if s.Addr >= m.Start && s.Addr-m.Start < 1<<32 {
			rel = append(rel, uint32(s.Addr-m.Start))
		}
	}
	err := core.RegisterFile(core.FileKey{Dev: k.Dev, Ino: k.Ino, Size: uint64(k.Size),
		MtimeNs: uint64(k.MtimeNs), Offset: k.Offset, Length: k.Length}, rel)
	if err != nil && newCode.cfg.Debug {
		logf("new code: file table full (%v): %s stays unrewritten in fork children", err, m.Path)
	}
}

// hasText reports whether mapping m holds any of img's executable sections.
func hasText(img *rewrite.Image, m procmaps.Mapping) bool {
	bias, err := img.Bias(m)
	if err != nil {
		return false
	}
	for _, r := range img.Text {
		if r.Start+bias < m.End && r.End+bias > m.Start {
			return true
		}
	}
	return false
}
