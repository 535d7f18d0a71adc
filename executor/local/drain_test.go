package local

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestDrained: the output copies are waited for while bytes flow or the
// collector is still busy with them (a slow parser once had the pipes cut
// under it, losing go test's results after 100 MB of output); they are cut
// off only after idle without a byte while both wait on the pipes.
func TestDrained(t *testing.T) {
	const idle = 200 * time.Millisecond
	for _, tc := range []struct {
		name string
		// act runs while drained waits; it closes copied to end the copies.
		act  func(copied chan struct{}, flowed *atomic.Int64, busy *atomic.Int32)
		want bool
	}{
		{"copies end", func(c chan struct{}, _ *atomic.Int64, _ *atomic.Int32) { close(c) }, true},
		{"held open, nothing flows", func(chan struct{}, *atomic.Int64, *atomic.Int32) {}, false},
		{"busy parsing past idle, then done", func(c chan struct{}, _ *atomic.Int64, b *atomic.Int32) {
			b.Add(1)
			time.Sleep(3 * idle)
			b.Add(-1)
			close(c)
		}, true},
		{"bytes flowing past idle, then done", func(c chan struct{}, f *atomic.Int64, _ *atomic.Int32) {
			for range 15 {
				f.Add(1)
				time.Sleep(idle / 5)
			}
			close(c)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copied := make(chan struct{})
			var flowed atomic.Int64
			var busy atomic.Int32
			go tc.act(copied, &flowed, &busy)
			if got := drained(copied, &flowed, &busy, idle); got != tc.want {
				t.Errorf("drained = %v, want %v", got, tc.want)
			}
		})
	}
}
