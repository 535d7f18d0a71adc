package executor

import (
	"github.com/bestpatch/bestpatch/executor/executortest"
	"os"
	"strconv"
	"testing"
)

func TestOwnerOrphaned(t *testing.T) {
	host, _ := os.Hostname()
	me := os.Getpid()
	start := ProcessStart(me)
	dead := executortest.DeadPID(t)
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
			o, ok := ParseOwner(tc.label, tc.start)
			if !ok {
				t.Fatalf("ParseOwner(%q) failed", tc.label)
			}
			if got := o.OrphanedOn(host); got != tc.want {
				t.Errorf("orphanedOn = %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "host", "host/x/i", "host/0/i", "/1/i", "host/1"} {
		if _, ok := ParseOwner(bad, ""); ok {
			t.Errorf("ParseOwner(%q) accepted a malformed label", bad)
		}
	}
}
