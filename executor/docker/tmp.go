package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/moby/moby/client"
)

// tmpDirs decides, once per image, whether runs get /tmp in memory
// (docs/DOCKER.md, "/tmp in memory"): on a storage driver such as
// fuse-overlayfs every file a run writes under /tmp (its stage, a Go test
// binary, the tests' temporary files) and every read back goes through
// the driver, and a Go run's `go test` took 1.5-1.9 s instead of 0.9-1.1 s.
type tmpDirs struct {
	mu    sync.Mutex
	empty map[string]bool // image ID -> /tmp is an empty directory in the image
}

// tmpDir is where runs get a tmpfs of their own.
const tmpDir = "/tmp"

// tmpInMemory says whether a run of image id gets a fresh tmpfs at /tmp:
// only where /tmp is an empty directory in the image, since a tmpfs would
// hide what the image keeps there (the engine cannot copy it up), and only
// for a run without a report file (report), because the report is read
// from the stopped container, whose tmpfs is gone by then.
func (d *Executor) tmpInMemory(ctx context.Context, id string, report bool) (bool, error) {
	if report {
		return false, nil
	}
	d.tmp.mu.Lock()
	empty, known := d.tmp.empty[id]
	d.tmp.mu.Unlock()
	if known {
		return empty, nil
	}
	empty, err := d.imageDirEmpty(ctx, id, tmpDir)
	if err != nil {
		return false, err
	}
	d.tmp.mu.Lock()
	d.tmp.empty[id] = empty
	d.tmp.mu.Unlock()
	if !empty {
		d.log.Info("/tmp is not an empty directory in the image; runs keep it in the image's file system", "image", id)
	}
	return empty, nil
}

// imageDirEmpty says whether p is an empty directory in image id (not a
// symbolic link): it reads p's archive up to its second entry.
func (d *Executor) imageDirEmpty(ctx context.Context, id, p string) (bool, error) {
	return d.lookInImage(ctx, id, p, func(cid string) (bool, error) {
		out, err := d.cli.CopyFromContainer(ctx, cid, client.CopyFromContainerOptions{SourcePath: p})
		if err != nil {
			return false, err
		}
		defer out.Content.Close()
		if !out.Stat.Mode.IsDir() || out.Stat.LinkTarget != "" {
			return false, nil
		}
		// The archive's first entry is the directory itself.
		tr := tar.NewReader(out.Content)
		for n := 0; ; n++ {
			if _, err := tr.Next(); err != nil {
				if errors.Is(err, io.EOF) {
					return n <= 1, nil
				}
				return false, err
			}
			if n >= 1 {
				return false, nil
			}
		}
	})
}

// tmpfsOptions are the mount options of a run's /tmp: executable, as the
// image's own /tmp is (a Go test binary runs from there), sticky and
// writable by any user, and no bigger than the run's memory limit, which
// bounds it anyway: its pages count against the container's memory.
func tmpfsOptions(memoryMB int) string {
	return fmt.Sprintf("rw,exec,nosuid,nodev,mode=1777,size=%dm", memoryMB)
}
