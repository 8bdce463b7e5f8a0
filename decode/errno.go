package decode

import (
	"strconv"

	"github.com/zpoline-go/zpoline/internal/systab"
)

// kernelErrno lists the kernel-internal error numbers (include/linux/errno.h). User
// space never sees them as a result, except through tracers that stop a call in the
// middle; strace prints them with "?" instead of -1.
var kernelErrno = map[int64][2]string{
	512: {"ERESTARTSYS", "To be restarted if SA_RESTART is set"},
	513: {"ERESTARTNOINTR", "To be restarted"},
	514: {"ERESTARTNOHAND", "To be restarted if no handler"},
	515: {"ENOIOCTLCMD", "No ioctl command"},
	516: {"ERESTART_RESTARTBLOCK", "Interrupted by signal"},
	517: {"EPROBE_DEFER", "Requested probe deferral"},
	518: {"EOPENSTALE", "Open found a stale dentry"},
	519: {"ENOPARAM", "Parameter not supported"},
	521: {"EBADHANDLE", "Illegal NFS file handle"},
	522: {"ENOTSYNC", "Update synchronization mismatch"},
	523: {"EBADCOOKIE", "Cookie is stale"},
	524: {"ENOTSUPP", "Operation is not supported"},
	525: {"ETOOSMALL", "Buffer or request is too small"},
	526: {"ESERVERFAULT", "An untranslatable error occurred"},
	527: {"EBADTYPE", "Type not supported by server"},
	528: {"EJUKEBOX", "Request initiated, but will not complete before timeout"},
	529: {"EIOCBQUEUED", "iocb queued, will get completion event"},
	530: {"ERECALLCONFLICT", "Conflict with recalled state"},
}

// ErrnoName returns the symbolic name of the positive error number e ("ENOENT"). It
// knows the user-visible errno values of the module's table and the kernel-internal
// ones (ERESTARTSYS, ...); anything else is "errno_<e>".
func ErrnoName(e int64) string {
	if k, ok := kernelErrno[e]; ok {
		return k[0]
	}
	return systab.ErrnoName(e)
}

// ErrnoText returns the description strace prints after the name: glibc's strerror
// text ("No such file or directory"), or "Unknown error <e>" as glibc says.
func ErrnoText(e int64) string {
	if e > 0 && e < int64(len(errnoText)) && errnoText[e] != "" {
		return errnoText[e]
	}
	if k, ok := kernelErrno[e]; ok {
		return k[1]
	}
	return "Unknown error " + strconv.FormatInt(e, 10)
}
