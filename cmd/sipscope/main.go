// Command sipscope reads SIP from packet captures, correlates it into dialogs
// and draws call flows. Run `sipscope --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/sipscope/sipscope/render"
)

// Exit codes (cli/cli convention).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// streams are the IO a command uses, injected so tests run without a process.
type streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY and ErrTTY say whether Out/ErrOut are terminals (colour,
	// progress, width adapt to them).
	OutTTY, ErrTTY bool
}

func main() {
	os.Exit(run(os.Args[1:], systemStreams()))
}

func systemStreams() *streams {
	return &streams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		OutTTY: isTerminal(os.Stdout), ErrTTY: isTerminal(os.Stderr),
	}
}

// run executes the command line and returns the exit code.
func run(args []string, io *streams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, io)
}

// runContext is run with the context given (tests bound it with a
// deadline).
func runContext(ctx context.Context, args []string, io *streams) int {
	root := newRootCmd(io)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue *usageError
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		fmt.Fprintln(io.ErrOut, "sipscope: interrupted")
		return exitInterrupted
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprintf(io.ErrOut, "sipscope: %s\n", render.Sanitize(err.Error()))
		return exitUsage
	default:
		fmt.Fprintf(io.ErrOut, "sipscope: %s\n", render.Sanitize(err.Error()))
		return exitError
	}
}

// usageError is a mistake in the command line (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// pflagInvalid is pflag's message for a value a flag cannot parse.
var pflagInvalid = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-., )?(--[^"]+)" flag: (.*)$`)

// flagError rewords pflag's errors for values it cannot parse, which quote
// the Go function that failed (strconv.ParseInt: parsing "abc": invalid
// syntax), as the flag and what it wants.
func flagError(err error) string {
	m := pflagInvalid.FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error()
	}
	val, flag, why := m[1], m[2], m[3]
	switch {
	case strings.Contains(why, "ParseInt"), strings.Contains(why, "ParseUint"):
		if strings.Contains(why, "out of range") {
			return fmt.Sprintf("%s: %q is out of range", flag, val)
		}
		return fmt.Sprintf("%s: %q is not a whole number", flag, val)
	case strings.Contains(why, "ParseFloat"):
		return fmt.Sprintf("%s: %q is not a number", flag, val)
	case strings.Contains(why, "ParseBool"):
		return fmt.Sprintf("%s: %q is not true or false", flag, val)
	case strings.Contains(why, "time: "):
		return fmt.Sprintf("%s: %q is not a duration (e.g. 500ms, 2s, 1m)", flag, val)
	}
	return fmt.Sprintf("%s: bad value %q: %s", flag, val, why)
}
