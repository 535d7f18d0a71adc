package selector

import (
	"context"
	"log/slog"

	"github.com/bestpatch/bestpatch/executor"
)

// RunCache puts the result cache around an execution: look the run's key
// up, on a miss execute, and store a result that may be reused. The
// in-process pool (Selector) and the daemon's workers both run through it;
// what they do between lookup and execution (a pool slot, a delivery
// count) is theirs, in the execute function they pass.
type RunCache struct {
	Cache Cache // nil: no cache, every run executes
	Log   *slog.Logger
}

// Do returns the cached result of r (cached true) or, on a miss, what
// execute returns, stored when Cacheable. A fresh run (r.Fresh) neither
// reads nor writes the cache. A cache that fails is logged and bypassed:
// the run executes, or its result is not stored.
func (c RunCache) Do(ctx context.Context, r PlannedRun, execute func(context.Context) (executor.Result, error)) (res executor.Result, cached bool, err error) {
	use := c.Cache != nil && !r.Fresh
	if use {
		res, ok, err := c.Cache.Get(ctx, r.Key)
		if err != nil {
			c.log().Warn("result cache read failed; running instead", "err", err)
		} else if ok {
			return res, true, nil
		}
	}
	res, err = execute(ctx)
	if err != nil {
		return res, false, err
	}
	if use && Cacheable(res) {
		if err := c.Cache.Put(ctx, r.Key, res); err != nil {
			c.log().Warn("result cache write failed", "err", err)
		}
	}
	return res, false, nil
}

func (c RunCache) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}
