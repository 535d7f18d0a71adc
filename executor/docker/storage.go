package docker

// slowStorage names the engine storage drivers that make every run slower
// than the engine's default would, and why (docs/DOCKER.md, "The engine's
// storage driver"). A run's time is a few hundred milliseconds of test
// command for the suites bestpatch is measured on, so what the driver adds
// to each file read and each container is not noise.
var slowStorage = map[string]string{
	"fuse-overlayfs": "every file a run reads or writes goes through a FUSE daemon, and each container costs the engine more to make (measured on 2 cores: a run's Go test command 8% slower, a container's life 25% more CPU, than overlay2 on the same machine)",
	"vfs":            "every container is a full copy of its image",
}

// storageAdvice says what the engine's storage driver costs the runs and
// how to avoid it; "" when the driver is not known to be slow.
func storageAdvice(driver string) string {
	why, slow := slowStorage[driver]
	if !slow {
		return ""
	}
	return why + `: where the kernel has overlayfs (most Linux kernels since 4.0, without user namespaces in the way), set "storage-driver": "overlay2" in the engine's daemon.json and build or load the images again (docs/DOCKER.md, "The engine's storage driver")`
}

// StorageDriver is the engine's storage driver (docker info's Driver), as
// read when the backend was made: measurements print it, since it moves
// every figure of a run in a container.
func (d *Executor) StorageDriver() string { return d.driver }
