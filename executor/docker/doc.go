// Package docker is the Docker backend of the executor: each run in a fresh,
// locked-down container of the run's image (Executor), with containers made
// ahead of need, the run's workdir on a fresh volume of its own copied from
// the image (git off the storage driver; Config.ImageWorkdir turns it off),
// read-only copies of image directories, concurrency sized from the engine,
// and a sweep of what killed processes left. It stages inputs and reads
// results with the shared parts of package executor.
package docker
