// Package docker is the Docker backend of the executor: each run in a fresh,
// locked-down container of the run's image (Executor), with containers made
// ahead of need, optionally the run's workdir on a fresh volume of its own
// copied from the image (Config.WorkdirVolume: git off the storage driver),
// read-only copies of image directories, concurrency sized from the engine,
// and a sweep of what killed processes left. It stages inputs and reads
// results with the shared parts of package executor.
package docker
