package decode

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// allTables lists the value tables to check against the C headers.
var allTables = map[string]*xlat{
	"xOpenAccess": xOpenAccess, "xOpenFlags": xOpenFlags, "xAtFlags": xAtFlags, "xFaccessatFlags": xFaccessatFlags,
	"xStatxSync": xStatxSync, "xStatxMask": xStatxMask, "xStatxAttrs": xStatxAttrs, "xAccessMode": xAccessMode,
	"xFileType": xFileType, "xWhence": xWhence, "xProt": xProt, "xMapType": xMapType, "xMapFlags": xMapFlags,
	"xMremap": xMremap, "xMsync": xMsync, "xMlockall": xMlockall, "xMlock2": xMlock2, "xMadvise": xMadvise,
	"xClone": xClone, "xSigHow": xSigHow, "xSaFlags": xSaFlags, "xSsFlags": xSsFlags, "xFutexCmd": xFutexCmd,
	"xAddrFamily": xAddrFamily, "xSockType": xSockType, "xSockFlags": xSockFlags, "xIPProto": xIPProto,
	"xNetlinkProto": xNetlinkProto, "xMsgFlags": xMsgFlags, "xShutdown": xShutdown, "xSockLevel": xSockLevel,
	"xSockOptSocket": xSockOptSocket, "xSockOptTCP": xSockOptTCP, "xSockOptIP": xSockOptIP,
	"xSockOptIPv6": xSockOptIPv6, "xFcntlCmd": xFcntlCmd, "xFdFlags": xFdFlags, "xLockType": xLockType,
	"xSeals": xSeals, "xNotify": xNotify, "xFlockOp": xFlockOp, "xPollEv": xPollEv, "xEpollEv": xEpollEv,
	"xEpollOp": xEpollOp, "xEpollFlags": xEpollFlags, "xEventfdFlags": xEventfdFlags,
	"xTimerfdFlags": xTimerfdFlags, "xSignalfdFlags": xSignalfdFlags, "xInotifyInit": xInotifyInit,
	"xInotifyMask": xInotifyMask, "xGrnd": xGrnd, "xMemfd": xMemfd, "xRename": xRename, "xCloseRange": xCloseRange,
	"xPidfdFlags": xPidfdFlags, "xResolve": xResolve, "xWaitOptions": xWaitOptions, "xWait4Options": xWait4Options,
	"xIdtype": xIdtype, "xClock": xClock, "xTimerFlags": xTimerFlags, "xItimer": xItimer, "xRlimit": xRlimit,
	"xPrioWhich": xPrioWhich, "xSchedPol": xSchedPol, "xArchPrctl": xArchPrctl, "xPrctl": xPrctl,
	"xPtrace": xPtrace, "xMembarrier": xMembarrier, "xFalloc": xFalloc, "xSplice": xSplice, "xUmount": xUmount,
	"xMountFl": xMountFl, "xIoUringEnter": xIoUringEnter, "xIoUringRegister": xIoUringRegister,
	"xIpcFlags": xIpcFlags, "xShmFlags": xShmFlags, "xShmat": xShmat, "xRseq": xRseq, "xSeccompOp": xSeccompOp,
	"xFsyncRange": xFsyncRange, "xFadvise": xFadvise, "xXattr": xXattr, "xTermios": xTermios,
	"xStatfsFlags": xStatfsFlags, "fsMagic": fsMagic, "xPersonaFlags": xPersonaFlags, "xPersona": xPersona,
	"xIpcCmd": xIpcCmd,
}

// headerDifferences are names whose user-space value differs from the kernel's on
// purpose; the tables hold the kernel's.
var headerDifferences = map[string]bool{
	"O_LARGEFILE":     true, // glibc defines it as 0 on 64-bit targets
	"RUSAGE_CHILDREN": true, // -1, held as the 32-bit value the kernel compares
	"MS_NOUSER":       true, // (1<<31), an int that sign-extends
	"__O_TMPFILE":     true, // glibc's includes O_DIRECTORY; the kernel's (and strace's) does not
}

// enumNames are names the headers define as enumeration constants rather than macros,
// compared without #ifdef.
var enumNames = map[string]bool{
	"PER_LINUX": true, "PER_LINUX32": true, "UNAME26": true, "ADDR_NO_RANDOMIZE": true, "FDPIC_FUNCPTRS": true,
	"MMAP_PAGE_ZERO": true, "ADDR_COMPAT_LAYOUT": true, "READ_IMPLIES_EXEC": true, "ADDR_LIMIT_32BIT": true,
	"SHORT_INODE": true, "WHOLE_SECONDS": true, "STICKY_TIMEOUTS": true, "ADDR_LIMIT_3GB": true,
	"P_ALL": true, "P_PID": true, "P_PGID": true,
	"MEMBARRIER_CMD_QUERY": true, "MEMBARRIER_CMD_GLOBAL": true, "MEMBARRIER_CMD_GLOBAL_EXPEDITED": true,
	"MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED": true, "MEMBARRIER_CMD_PRIVATE_EXPEDITED": true,
	"MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED": true, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE": true,
	"MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE": true,
}

// TestTablesMatchCHeaders compiles a C program that compares every name in the tables
// that the installed headers define with the value in the table.
func TestTablesMatchCHeaders(t *testing.T) {
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is not installed")
	}
	var src strings.Builder
	src.WriteString(`#define _GNU_SOURCE
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netlink.h>
#include <linux/futex.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <linux/membarrier.h>
#include <linux/openat2.h>
#include <linux/ptrace.h>
#include <linux/seccomp.h>
#include <asm/prctl.h>
#include <asm/termbits.h>
#include <linux/fiemap.h>
#if __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#endif
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
int main(void) {
	int checked = 0;
`)
	n := 0
	for tname, tab := range allTables {
		for _, e := range tab.ents {
			if headerDifferences[e.name] || !isIdent(e.name) {
				continue
			}
			if enumNames[e.name] {
				fmt.Fprintf(&src, "\tchecked++;\n\tif ((unsigned long long)(%[1]s) != %#[3]xull) printf(\"%[2]s %[1]s = %%#llx, table %#[3]x\\n\", (unsigned long long)(%[1]s));\n",
					e.name, tname, e.v)
				n++
				continue
			}
			fmt.Fprintf(&src, "#ifdef %[1]s\n\tchecked++;\n\tif ((unsigned long long)(%[1]s) != %#[3]xull) printf(\"%[2]s %[1]s = %%#llx, table %#[3]x\\n\", (unsigned long long)(%[1]s));\n#else\n\tprintf(\"undefined %[1]s\\n\");\n#endif\n",
				e.name, tname, e.v)
			n++
		}
	}
	src.WriteString("\tprintf(\"checked %d\\n\", checked);\n\treturn 0;\n}\n")
	dir := t.TempDir()
	c := filepath.Join(dir, "check.c")
	if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "check")
	if out, err := exec.Command(cc, "-w", "-o", bin, c).CombinedOutput(); err != nil {
		t.Fatalf("compile: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var checked int
	fmt.Sscanf(lines[len(lines)-1], "checked %d", &checked)
	var undefined []string
	for _, l := range lines[:len(lines)-1] {
		if name, ok := strings.CutPrefix(l, "undefined "); ok {
			undefined = append(undefined, name)
			continue
		}
		t.Errorf("value differs from the headers: %s", l)
	}
	sort.Strings(undefined)
	t.Logf("not defined by the installed headers, so not compared: %s", strings.Join(undefined, " "))
	t.Logf("%d of %d names defined by the installed headers, all compared", checked, n)
	if checked < n/2 {
		t.Errorf("only %d of %d names are defined by the headers: check the includes", checked, n)
	}
}

func isIdent(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// TestTablesMatchUnix compares the names the installed C headers may not define yet
// with golang.org/x/sys/unix.
func TestTablesMatchUnix(t *testing.T) {
	want := map[string]uint64{
		"CLONE_CLEAR_SIGHAND": unix.CLONE_CLEAR_SIGHAND, "CLONE_INTO_CGROUP": unix.CLONE_INTO_CGROUP,
		"FALLOC_FL_WRITE_ZEROES": unix.FALLOC_FL_WRITE_ZEROES, "F_CREATED_QUERY": unix.F_CREATED_QUERY,
		"F_DUPFD_QUERY": unix.F_DUPFD_QUERY, "F_SEAL_EXEC": unix.F_SEAL_EXEC, "IPPROTO_L2TP": unix.IPPROTO_L2TP,
		"MADV_COLLAPSE": unix.MADV_COLLAPSE, "MADV_GUARD_INSTALL": unix.MADV_GUARD_INSTALL,
		"MADV_GUARD_REMOVE": unix.MADV_GUARD_REMOVE, "MAP_ABOVE4G": unix.MAP_ABOVE4G,
		"MAP_DROPPABLE": unix.MAP_DROPPABLE, "MFD_EXEC": unix.MFD_EXEC, "MFD_NOEXEC_SEAL": unix.MFD_NOEXEC_SEAL,
		"PIDFD_NONBLOCK": unix.PIDFD_NONBLOCK, "PIDFD_THREAD": unix.PIDFD_THREAD, "PR_FUTEX_HASH": unix.PR_FUTEX_HASH,
		"PR_GET_AUXV": unix.PR_GET_AUXV, "PR_GET_MDWE": unix.PR_GET_MDWE, "PR_GET_MEMORY_MERGE": unix.PR_GET_MEMORY_MERGE,
		"PR_GET_SHADOW_STACK_STATUS":  unix.PR_GET_SHADOW_STACK_STATUS,
		"PR_LOCK_SHADOW_STACK_STATUS": unix.PR_LOCK_SHADOW_STACK_STATUS, "PR_PPC_GET_DEXCR": unix.PR_PPC_GET_DEXCR,
		"PR_RISCV_V_GET_CONTROL": unix.PR_RISCV_V_GET_CONTROL, "PR_SET_MDWE": unix.PR_SET_MDWE,
		"PR_TIMER_CREATE_RESTORE_IDS":   unix.PR_TIMER_CREATE_RESTORE_IDS,
		"PR_RISCV_SET_ICACHE_FLUSH_CTX": unix.PR_RISCV_SET_ICACHE_FLUSH_CTX, "P_ALL": unix.P_ALL,
		"P_PIDFD": unix.P_PIDFD, "SCHED_EXT": unix.SCHED_EXT, "SO_PASSPIDFD": unix.SO_PASSPIDFD,
		"SO_PEERPIDFD": unix.SO_PEERPIDFD, "STATX_ATTR_WRITE_ATOMIC": unix.STATX_ATTR_WRITE_ATOMIC,
		"STATX_DIO_READ_ALIGN": unix.STATX_DIO_READ_ALIGN, "STATX_MNT_ID_UNIQUE": unix.STATX_MNT_ID_UNIQUE,
		"STATX_SUBVOL": unix.STATX_SUBVOL, "STATX_WRITE_ATOMIC": unix.STATX_WRITE_ATOMIC,
		"MSG_SOCK_DEVMEM":                         unix.MSG_SOCK_DEVMEM,
		"PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG": unix.PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG,
	}
	found := map[string]bool{}
	for tname, tab := range allTables {
		for _, e := range tab.ents {
			if v, ok := want[e.name]; ok {
				found[e.name] = true
				if v != e.v {
					t.Errorf("%s %s = %#x, x/sys/unix has %#x", tname, e.name, e.v, v)
				}
			}
		}
	}
	for name := range want {
		if !found[name] {
			t.Errorf("%s is in no table", name)
		}
	}
}
