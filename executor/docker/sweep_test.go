package docker

import (
	"context"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

const sweepHelperEnv = "BESTPATCH_SWEEP_HELPER"

// TestDockerSweepHelper is the process that TestDockerSweep kills: it starts
// a long run and waits.
func TestDockerSweepHelper(t *testing.T) {
	if os.Getenv(sweepHelperEnv) == "" {
		t.Skip("the helper process of TestDockerSweep; runs only when re-executed by it")
	}
	d, err := New(t.Context(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = d.Run(t.Context(), executor.Run{Env: executor.Environment{Image: goImage}, Command: "sleep 98760", Format: executor.GoJSON, Timeout: time.Hour})
}

// A process killed in the middle of a run leaves its container; the next
// Sweep removes it, and nothing else.
func TestDockerSweep(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, goImage)

	// Containers Sweep must leave alone, each created (not started) with
	// labels: a live owner (this process), another host, no project label.
	self := executor.Owner{Host: d.owner.Host, PID: os.Getpid(), Start: executor.ProcessStart(os.Getpid()), Instance: "another-instance"}
	decoys := map[string]map[string]string{
		"live owner":   labels(self, "decoy-live"),
		"other host":   {LabelOwner: "another-host.example/1/x", LabelRun: "decoy-host"},
		"no label":     {"dev.example.other": "yes"},
		"bad label":    {LabelOwner: "not an owner"},
		"foreign pids": {LabelOwner: d.owner.Host + "/" + strconv.Itoa(os.Getpid()) + "/y", LabelOwnerStart: self.Start},
	}
	var decoyIDs []string
	for name, labels := range decoys {
		c, err := d.cli.ContainerCreate(t.Context(), client.ContainerCreateOptions{
			Name:   "bestpatch-test-decoy-" + strings.ReplaceAll(name, " ", "-") + "-" + executor.NewRunID()[:6],
			Config: &container.Config{Image: goImage, Cmd: []string{"true"}, Labels: labels},
		})
		if err != nil {
			t.Fatalf("create decoy %s: %v", name, err)
		}
		decoyIDs = append(decoyIDs, c.ID)
	}
	t.Cleanup(func() {
		for _, id := range decoyIDs {
			_, _ = d.cli.ContainerRemove(context.Background(), id, client.ContainerRemoveOptions{Force: true})
		}
	})

	helper := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestDockerSweepHelper$", "-test.count=1")
	helper.Env = append(os.Environ(), sweepHelperEnv+"=1")
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	orphan := waitForRunning(t, d, helper.Process.Pid)
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	// Volumes: one of the dead helper's left without its container (Sweep
	// removes it), one of a live owner (Sweep leaves it).
	dead := executor.Owner{Host: d.owner.Host, PID: helper.Process.Pid, Start: "1", Instance: "gone"}
	vols := map[string]string{}
	for name, l := range map[string]map[string]string{"orphan": labels(dead, "vol-orphan"), "live": labels(self, "vol-live")} {
		v, err := d.cli.VolumeCreate(t.Context(), client.VolumeCreateOptions{Labels: l})
		if err != nil {
			t.Fatalf("create volume %s: %v", name, err)
		}
		t.Cleanup(func() {
			_, _ = d.cli.VolumeRemove(context.Background(), v.Volume.Name, client.VolumeRemoveOptions{Force: true})
		})
		vols[name] = v.Volume.Name
	}

	removed, err := d.Sweep(t.Context())
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if !slices.Contains(removed, orphan) {
		t.Errorf("Sweep removed %v, want the killed helper's %s among them", removed, orphan)
	}
	for _, id := range decoyIDs {
		if _, err := d.cli.ContainerInspect(t.Context(), id, client.ContainerInspectOptions{}); err != nil {
			t.Errorf("Sweep touched a container it must leave alone: %v", err)
		}
	}
	if _, err := d.cli.VolumeInspect(t.Context(), vols["orphan"], client.VolumeInspectOptions{}); err == nil {
		t.Errorf("Sweep left the dead owner's volume %s", vols["orphan"])
	}
	if _, err := d.cli.VolumeInspect(t.Context(), vols["live"], client.VolumeInspectOptions{}); err != nil {
		t.Errorf("Sweep touched a live owner's volume: %v", err)
	}
	if procs := executortest.MarkedProcesses(t, "sleep 98760"); len(procs) > 0 {
		t.Errorf("the orphan's processes survived the sweep: %v", procs)
	}
}

// waitForRunning waits until a container of the process pid runs and
// returns its name.
func waitForRunning(t *testing.T, d *Executor, pid int) string {
	t.Helper()
	for t.Context().Err() == nil {
		list, err := d.cli.ContainerList(t.Context(), client.ContainerListOptions{
			Filters: make(client.Filters).Add("label", LabelOwner),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list.Items {
			o, ok := executor.ParseOwner(c.Labels[LabelOwner], c.Labels[LabelOwnerStart])
			if ok && o.PID == pid && c.State == container.StateRunning {
				return strings.TrimPrefix(c.Names[0], "/")
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the helper's container never ran")
	return ""
}
