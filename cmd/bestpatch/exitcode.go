package main

import (
	"errors"
	"fmt"
)

// exitCode is an error that carries the process exit status and has already
// been reported to the user (e.g. "no candidate chosen" is exit 2).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func asExitCode(err error, target *exitCode) bool { return errors.As(err, target) }
