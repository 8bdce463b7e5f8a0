// Package procmaps parses the memory map of a Linux process as the kernel
// prints it in /proc/<pid>/maps.
//
// Each line has the form
//
//	start-end perms offset major:minor inode   path
//
// where start, end, offset, major and minor are hexadecimal, inode is
// decimal, perms is four characters from "rwxp"/"rwxs" with '-' for an
// absent permission, and path is optional. The kernel pads the inode
// column with spaces before the path; the path itself may contain spaces,
// may be a pseudo-name such as "[vdso]", "[stack]" or "[anon:name]", and a
// file that was unlinked after it was mapped carries the suffix
// " (deleted)". The path is therefore taken verbatim: everything after the
// run of spaces that follows the inode, up to the end of the line.
//
// The parser is a pure function over text: it never panics, and every
// error it returns names the line number and the field that was wrong, and
// matches [ErrSyntax] with errors.Is.
package procmaps
