// Package interval works with closed integer intervals [Lo, Hi].
package interval

import "fmt"

// Interval is the closed range of integers from Lo to Hi.
type Interval struct{ Lo, Hi int }

// New returns [lo, hi], swapping the ends if they are given in reverse.
func New(lo, hi int) Interval {
	if lo > hi {
		lo, hi = hi, lo
	}
	return Interval{lo, hi}
}

// Len is the number of integers in the interval.
func (a Interval) Len() int { return a.Hi - a.Lo + 1 }

// Contains reports whether x lies in the interval.
func (a Interval) Contains(x int) bool { return a.Lo <= x && x <= a.Hi }

// Overlaps reports whether the two intervals share at least one integer.
func (a Interval) Overlaps(b Interval) bool {
	return a.Lo < b.Hi && b.Lo < a.Hi
}

// String formats the interval as [lo, hi].
func (a Interval) String() string { return fmt.Sprintf("[%d, %d]", a.Lo, a.Hi) }
