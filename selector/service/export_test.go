package service

import "time"

// WithOpTimeout returns cfg with the bound of one JetStream operation set
// to d: a request in flight when its server dies is answered by no one,
// and tests that stop servers would wait the default 30 s for each.
func WithOpTimeout(cfg Config, d time.Duration) Config {
	cfg.opTimeout = d
	return cfg
}
