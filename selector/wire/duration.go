package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"time"
)

// Duration is a duration a client gives: a Go duration string ("10m",
// "1h30m", "90s") or a number of seconds (600). It is written back as a Go
// duration string.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return &json.UnmarshalTypeError{Value: fmt.Sprintf("string %q (%v)", s, err), Type: reflect.TypeFor[Duration]()}
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil || math.Abs(secs) > math.MaxInt64/float64(time.Second) {
		// A type error lets encoding/json add the field's name.
		return &json.UnmarshalTypeError{Value: "value " + string(b), Type: reflect.TypeFor[Duration]()}
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// seconds is a duration as the daemon reports it, in the *_seconds fields.
func seconds(d time.Duration) float64 { return d.Seconds() }

// fromSeconds is the duration of a number of seconds, to the nanosecond.
func fromSeconds(secs float64) time.Duration {
	return time.Duration(math.Round(secs * float64(time.Second)))
}
