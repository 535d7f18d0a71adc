//go:build !linux

package service

// totalMemory is unknown off Linux; the metadata leaves it out.
func totalMemory() uint64 { return 0 }
