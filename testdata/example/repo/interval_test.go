package interval

import "testing"

func TestNew(t *testing.T) {
	if got := New(5, 2); got != (Interval{2, 5}) {
		t.Fatalf("New(5, 2) = %v", got)
	}
}

func TestLen(t *testing.T) {
	for _, tc := range []struct {
		in   Interval
		want int
	}{{Interval{1, 1}, 1}, {Interval{1, 4}, 4}, {Interval{-2, 2}, 5}} {
		if got := tc.in.Len(); got != tc.want {
			t.Errorf("%v.Len() = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestContains(t *testing.T) {
	a := Interval{1, 3}
	for x, want := range map[int]bool{0: false, 1: true, 2: true, 3: true, 4: false} {
		if got := a.Contains(x); got != want {
			t.Errorf("%v.Contains(%d) = %v", a, x, got)
		}
	}
}

func TestOverlapsDisjoint(t *testing.T) {
	if (Interval{1, 2}).Overlaps(Interval{5, 9}) {
		t.Fatal("[1, 2] and [5, 9] do not overlap")
	}
}

func TestString(t *testing.T) {
	if s := (Interval{1, 2}).String(); s != "[1, 2]" {
		t.Fatalf("String() = %q", s)
	}
}
