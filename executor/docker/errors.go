package docker

import (
	"errors"
	"fmt"
	"net"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// imageMissingError: the run's image is not on the engine. bestpatch never
// pulls (runs may have no registry, and a pulled tag may not be the image
// the task was made for).
type imageMissingError struct {
	image string
	err   error
}

func (e *imageMissingError) Error() string {
	return fmt.Sprintf("image %s is not on the Docker engine: build or load it first (testdata/images/build.sh for bestpatch's test images, `docker load` or `docker pull` for SWE-bench images); bestpatch never pulls images", e.image)
}

func (e *imageMissingError) Unwrap() error { return e.err }

// unreachable describes a failure to reach the engine at host.
func unreachable(host string, err error) error {
	return fmt.Errorf("cannot reach the Docker engine at %s: %w; start dockerd, or point DOCKER_HOST (or the executor's docker host setting) at a running engine", host, err)
}

// engineUnreachable reports whether err means no engine answered.
func engineUnreachable(err error) bool {
	var opErr *net.OpError
	return client.IsErrConnectionFailed(err) || errors.As(err, &opErr)
}

// infraReason turns the last error of a run's attempts into the Reason of
// an Infra result: what happened, and what to do.
func infraReason(err error, host string) string {
	var missing *imageMissingError
	switch {
	case errors.As(err, &missing):
		return missing.Error()
	case engineUnreachable(err):
		return unreachable(host, err).Error()
	case diskFull(err.Error()) || strings.Contains(err.Error(), "no space left on device"):
		return fmt.Sprintf("the Docker engine's disk is full: %v; free space (docker system prune, remove unused images) and run again", err)
	case cerrdefs.IsResourceExhausted(err):
		return fmt.Sprintf("the Docker engine is out of resources: %v; run fewer jobs at once or free resources", err)
	}
	return fmt.Sprintf("the Docker engine failed the run: %v; check the engine (docker info, its logs) and run again", err)
}
