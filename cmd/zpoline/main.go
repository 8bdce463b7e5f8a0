// Command zpoline runs a program with every system call hooked by the zpoline loader
// (libzpoline.so), and checks whether this machine can do it.
//
//	zpoline run [flags] -- prog args...   run prog under the loader (exec: same pid, same status)
//	zpoline trace [flags] -- prog args... print its system calls and its children's, like strace -f
//	zpoline stat [flags] -- prog args...  count them, like strace -c -f
//	zpoline doctor [--json]               check the machine, with the fix for each failure
//
// Errors are one line on stderr, "zpoline: <cause>; <fix>", like the loader's own. Status 2
// means bad usage or an environment that cannot work; `run` returns 127 when the program is
// not found (as a shell does) and otherwise the program's own status, because it execs it.
//
// The command is pure Go (no cgo), so it is a static binary that runs anywhere and is never
// hooked itself.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// Exit statuses of the command itself.
const (
	exitOK       = 0
	exitFailed   = 1   // doctor: at least one check failed
	exitUsage    = 2   // bad usage, or an environment `run` refuses to start in
	exitNoExec   = 126 // the program exists but cannot be executed (as a shell)
	exitNotFound = 127 // the program is not found (as a shell)
)

// A command is one subcommand.
type command struct {
	name    string
	summary string
	help    string // the complete text of `zpoline NAME --help`
	main    func(args []string) int
}

// commands lists the subcommands in the order `zpoline --help` shows them (set in init:
// the commands' own code looks them up, which a variable initialiser cannot do).
var commands []*command

func init() { commands = []*command{runCommand, traceCommand, statCommand, doctorCommand, helpCommand} }

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func mainHelp() string {
	var b strings.Builder
	b.WriteString(`Usage: zpoline [--help] [--version] SUBCOMMAND [flags] [args]

zpoline runs programs with every system call hooked by the zpoline loader
(libzpoline.so, preloaded) and checks whether this machine can do it.

Subcommands:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Global flags:
  -h, --help     show this help
  --version      show the version of this command

Run 'zpoline SUBCOMMAND --help' for the flags of a subcommand.
Examples:
  zpoline doctor
  zpoline run -- ls -la /usr                   # the default hook traces every call
  zpoline run --hook builtin:pass --stats - -- /bin/true
  zpoline trace -e trace=file -- ls /tmp           # strace-style lines
  zpoline stat -- python3 -c 'print(1)'           # the strace -c table
`)
	return b.String()
}

var helpCommand = &command{
	name:    "help",
	summary: "show the help of zpoline or of a subcommand",
	help: `Usage: zpoline help [SUBCOMMAND]

Shows the help of zpoline, or of SUBCOMMAND (the same as 'zpoline SUBCOMMAND --help').
`,
	main: func(args []string) int {
		fs := newFlagSet("help")
		if code, ok := parseFlags(fs, "help", args); !ok {
			return code
		}
		switch rest := fs.Args(); {
		case len(rest) == 0:
			fmt.Print(mainHelp())
		case len(rest) > 1:
			return usageError("help takes at most one subcommand, got "+strings.Join(rest, " "), "see 'zpoline --help'")
		case lookup(rest[0]) == nil:
			return unknownSubcommand(rest[0])
		default:
			fmt.Print(lookup(rest[0]).help)
		}
		return exitOK
	},
}

func main() {
	os.Exit(zpolineMain(os.Args[1:]))
}

// zpolineMain parses the global flags and runs the subcommand; it returns the exit status
// (`run` does not return when it execs the program).
func zpolineMain(args []string) int {
	fs := newFlagSet("")
	version := fs.Bool("version", false, "")
	if code, ok := parseFlags(fs, "", args); !ok {
		return code
	}
	if *version {
		fmt.Println(versionString())
		return exitOK
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError("no subcommand given (available: "+commandNames()+")", "see 'zpoline --help'")
	}
	c := lookup(rest[0])
	if c == nil {
		return unknownSubcommand(rest[0])
	}
	return c.main(rest[1:])
}

func unknownSubcommand(name string) int {
	return usageError(fmt.Sprintf("unknown subcommand %q (available: %s)", name, commandNames()), "see 'zpoline --help'")
}

func versionString() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
		v += " " + bi.GoVersion
	}
	return "zpoline " + v
}

// A problem is one reason the command cannot go on: what is wrong, and how to fix it.
type problem struct {
	cause string
	fix   string
}

func (p problem) String() string { return "zpoline: " + p.cause + "; " + p.fix }

// report prints the problem as one line on stderr.
func (p problem) report() { fmt.Fprintln(os.Stderr, p.String()) }

// usageError prints one line and returns exitUsage.
func usageError(cause, fix string) int {
	problem{cause, fix}.report()
	return exitUsage
}

// newFlagSet returns a flag set that prints nothing itself: parseFlags reports errors as one
// line and help as the command's text.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args for the subcommand sub ("" for the global flags). On --help it
// prints the help to stdout and returns (0, false); on a bad flag it prints one line and
// returns (2, false).
func parseFlags(fs *flag.FlagSet, sub string, args []string) (int, bool) {
	err := fs.Parse(args)
	if err == nil {
		return exitOK, true
	}
	helpRef, where := "'zpoline --help'", ""
	if sub != "" {
		helpRef, where = "'zpoline "+sub+" --help'", " for 'zpoline "+sub+"'"
	}
	if errors.Is(err, flag.ErrHelp) {
		if sub == "" {
			fmt.Print(mainHelp())
		} else {
			fmt.Print(lookup(sub).help)
		}
		return exitOK, false
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "flag provided but not defined: "):
		name := strings.TrimPrefix(msg, "flag provided but not defined: ")
		return usageError(fmt.Sprintf("unknown flag %s%s (flags: %s)", spelled(args, name), where, flagList(fs)), "see "+helpRef), false
	case strings.HasPrefix(msg, "flag needs an argument: "):
		name := strings.TrimPrefix(msg, "flag needs an argument: ")
		return usageError(fmt.Sprintf("flag %s%s needs a value", spelled(args, name), where), "see "+helpRef), false
	default:
		return usageError(fmt.Sprintf("%s%s", msg, where), "see "+helpRef), false
	}
}

// spelled returns the flag as the user wrote it (--name or -name); the flag package's
// messages always say -name.
func spelled(args []string, dashName string) string {
	name := strings.TrimPrefix(dashName, "-")
	for _, a := range args {
		if a == "--" {
			break
		}
		n, _, _ := strings.Cut(a, "=")
		if strings.TrimLeft(n, "-") == name && strings.HasPrefix(n, "-") {
			return n
		}
	}
	return "--" + name
}

// flagList names the flags of fs, for the unknown-flag message.
func flagList(fs *flag.FlagSet) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
	names = append(names, "--help")
	sort.Strings(names)
	return strings.Join(names, " ")
}
