package executor

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

func TestOwnerOrphaned(t *testing.T) {
	host, _ := os.Hostname()
	me := os.Getpid()
	start := processStart(me)
	dead := deadPID(t)
	for _, tc := range []struct {
		name  string
		label string
		start string
		want  bool
	}{
		{"this process", host + "/" + strconv.Itoa(me) + "/i", start, false},
		{"this process, start unknown", host + "/" + strconv.Itoa(me) + "/i", "", false},
		{"pid reused by a younger process", host + "/" + strconv.Itoa(me) + "/i", start + "1", true},
		{"dead process", host + "/" + strconv.Itoa(dead) + "/i", "", true},
		{"dead process on another host", "elsewhere/" + strconv.Itoa(dead) + "/i", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, ok := parseOwner(tc.label, tc.start)
			if !ok {
				t.Fatalf("parseOwner(%q) failed", tc.label)
			}
			if got := o.orphanedOn(host); got != tc.want {
				t.Errorf("orphanedOn = %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "host", "host/x/i", "host/0/i", "/1/i", "host/1"} {
		if _, ok := parseOwner(bad, ""); ok {
			t.Errorf("parseOwner(%q) accepted a malformed label", bad)
		}
	}
}

// deadPID returns the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
