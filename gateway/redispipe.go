package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	libredis "github.com/redis/go-redis/v9"
)

// pipeMax bounds one pipeline; a longer queue goes out in several.
const pipeMax = 512

// pipelinedRedis is the Redis client the ulule/limiter store talks to.
// Every limit check is one EVALSHA of the library's counter script; under
// load each of them cost a write and a read system call in the gateway and
// in Redis, about a fifth of a keyed request's CPU. Here the script calls of
// concurrent requests leave together in one pipeline: the first caller that
// finds no pipeline in flight sends its own call at once (no added latency
// when idle); calls that arrive while a pipeline is in flight queue and leave
// together in the next. Each call is still one atomic script run in Redis,
// so what a counter admits is exactly what it admitted before.
// Everything else (SCRIPT LOAD, DEL, …) goes straight to the client.
type pipelinedRedis struct {
	*libredis.Client

	mu       sync.Mutex
	queue    []*pipedCall
	flushing bool

	pipelines atomic.Int64 // pipelines sent, for tests and curiosity
	calls     atomic.Int64 // script calls sent
}

type pipedCall struct {
	ctx  context.Context
	sha  string
	keys []string
	args []any
	cmd  *libredis.Cmd
	done chan struct{}
}

func newPipelinedRedis(c *libredis.Client) *pipelinedRedis {
	return &pipelinedRedis{Client: c}
}

// EvalSha queues the call and waits for its pipeline, or for ctx.
func (p *pipelinedRedis) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *libredis.Cmd {
	call := &pipedCall{ctx: ctx, sha: sha, keys: keys, args: args, done: make(chan struct{})}
	p.mu.Lock()
	p.queue = append(p.queue, call)
	lead := !p.flushing
	p.flushing = lead || p.flushing
	p.mu.Unlock()
	if lead {
		p.flush()
	}
	select {
	case <-call.done:
		return call.cmd
	case <-ctx.Done():
		cmd := libredis.NewCmd(ctx)
		cmd.SetErr(ctx.Err())
		return cmd
	}
}

// flush sends what is queued as one pipeline. Whatever queued meanwhile is
// sent by a new goroutine, so that the caller that led returns at once.
func (p *pipelinedRedis) flush() {
	p.mu.Lock()
	n := min(len(p.queue), pipeMax)
	batch := p.queue[:n:n]
	p.queue = p.queue[n:]
	p.mu.Unlock()

	pipe := p.Client.Pipeline()
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			// Its caller has gone: do not spend its allowance.
			c.cmd = libredis.NewCmd(c.ctx)
			c.cmd.SetErr(err)
			continue
		}
		c.cmd = pipe.EvalSha(c.ctx, c.sha, c.keys, c.args...)
	}
	if sent := pipe.Len(); sent > 0 {
		// Not a caller's context: one caller leaving must not fail the
		// others' calls. The client's own timeouts bound the exchange.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = pipe.Exec(ctx) // each command carries its own error
		cancel()
		p.pipelines.Add(1)
		p.calls.Add(int64(sent))
	}
	for _, c := range batch {
		close(c.done)
	}

	p.mu.Lock()
	if len(p.queue) == 0 {
		p.flushing = false
		p.queue = nil
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	go p.flush()
}
