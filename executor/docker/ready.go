package docker

// newReady is the pool of fresh containers made ahead of need (docs/DOCKER.md,
// "Containers made ahead"): each is created, started, its work tree reset
// (sandboxBoot), and serves exactly one run, after which it is discarded.
// Nothing is shared: every run still gets a container of its own. The
// oldest is taken first.
func newReady(d *Executor, ahead int) *pool[*sandbox] {
	return newPool(poolConfig[*sandbox]{
		log: d.log, ahead: ahead, idle: readyIdle, what: "a container",
		make:   d.makeSandbox,
		remove: d.removeNow,
	})
}
