package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	lru "github.com/hashicorp/golang-lru/v2"
)

// responseCache keeps raw response bodies by request key: in memory (bounded,
// least recently used evicted) and, when dir is set, on disk, so that
// re-running a job, even in a new process, sends nothing.
type responseCache struct {
	mem *lru.Cache[string, []byte]
	dir string
}

func newResponseCache(dir string, entries int) (*responseCache, error) {
	mem, err := lru.New[string, []byte](entries)
	if err != nil {
		return nil, fmt.Errorf("response cache: %w", err)
	}
	if dir != "" {
		// Fail now, not silently at the first write.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("response cache directory %s: %w (check --llm-cache-dir)", dir, err)
		}
		probe, err := os.CreateTemp(dir, ".probe-*")
		if err != nil {
			return nil, fmt.Errorf("response cache directory %s is not writable: %w (check --llm-cache-dir)", dir, err)
		}
		probe.Close()
		os.Remove(probe.Name())
	}
	return &responseCache{mem: mem, dir: dir}, nil
}

// requestKey returns the canonical JSON of a request (the body sent) and
// its cache key, the hex sha256 of that JSON. encoding/json writes struct
// fields in declaration order and ChatRequest holds no maps, so equal
// requests have equal bytes.
func requestKey(req ChatRequest) (body []byte, key string, err error) {
	body, err = json.Marshal(req)
	if err != nil {
		return nil, "", fmt.Errorf("encode chat request: %w", err)
	}
	sum := sha256.Sum256(body)
	return body, hex.EncodeToString(sum[:]), nil
}

func (c *responseCache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".json")
}

// get returns a cached body. A file that cannot be read counts as a miss:
// the request is then sent again and the file rewritten.
func (c *responseCache) get(key string) ([]byte, bool) {
	if b, ok := c.mem.Get(key); ok {
		return b, true
	}
	if c.dir == "" {
		return nil, false
	}
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil, false
	}
	c.mem.Add(key, b)
	return b, true
}

// put stores a body. The disk write goes through a temporary file and a
// rename, so a reader never sees half a response.
func (c *responseCache) put(key string, body []byte) error {
	c.mem.Add(key, body)
	if c.dir == "" {
		return nil
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("response cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("response cache: %w", err)
	}
	_, werr := tmp.Write(body)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("response cache: write %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("response cache: %w", err)
	}
	return nil
}

// forget drops a key whose stored body turned out to be unusable.
func (c *responseCache) forget(key string) {
	c.mem.Remove(key)
	if c.dir != "" {
		// A file that cannot be removed is only read and dropped again.
		_ = os.Remove(c.path(key))
	}
}
