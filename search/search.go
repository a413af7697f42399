// Package search runs search jobs: a query over a time range, executed in the
// background, whose status, histogram, messages and records clients poll
// (the Sumo Logic search job model). The HTTP shape lives in package api.
package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/store"
)

// Job states, spelled as Sumo's API spells them.
const (
	StateNotStarted  = "NOT STARTED"
	StateGathering   = "GATHERING RESULTS"
	StateForcePaused = "FORCE PAUSED"
	StateDone        = "DONE GATHERING RESULTS"
	StateCancelled   = "CANCELLED"
)

// Config bounds the manager.
type Config struct {
	// MaxMessages is how many messages a non-aggregate job keeps before it
	// is force-paused (Sumo: 100,000).
	MaxMessages int
	// MaxMessageBytes bounds the raw bytes a job keeps.
	MaxMessageBytes int64
	// IdleTimeout cancels and forgets a job nobody polled for this long.
	IdleTimeout time.Duration
	// MaxRuntime is a search's time budget, counted from the moment it
	// starts running (not while it waits for a slot). A search that runs
	// out of it stops with an error saying its results are partial.
	MaxRuntime time.Duration
	// MaxJobs bounds live jobs (and open result streams) in total and per
	// user.
	MaxJobs, MaxJobsPerUser int
	// MaxRunning bounds the searches (jobs and streams) that run engine
	// queries at once; the others wait in state NOT STARTED, in arrival
	// order, for a slot.
	MaxRunning int
	// MaxGroups is the group limit of aggregates
	// (query.CompileOptions.MaxGroups): a query producing more groups stops
	// with an error naming the limit. 0 means query.DefaultMaxGroups.
	MaxGroups int
	// AllGo runs every query entirely in Go operators, the engine only
	// selecting the time range (query.CompileOptions{PushDown: false}): a
	// diagnostic mode, slower, for comparing results and for tests.
	AllGo bool
	// Env is the execution environment of queries: lookup tables and the
	// GeoIP database (query.Env). Each search gets a copy naming its user;
	// save may write only for admins (env.go).
	Env     *query.Env
	Logger  *slog.Logger
	Metrics *metrics.Set
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxMessages:     100_000,
		MaxMessageBytes: 256 << 20,
		IdleTimeout:     60 * time.Second,
		MaxRuntime:      5 * time.Minute,
		MaxJobs:         200,
		MaxJobsPerUser:  20,
		MaxRunning:      8,
		MaxGroups:       query.DefaultMaxGroups,
	}
}

// Manager owns the live jobs.
type Manager struct {
	cfg   Config
	store store.Store

	mu   sync.Mutex
	jobs map[string]*Job

	// slots holds a token per running search (Config.MaxRunning).
	slots chan struct{}

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// NewManager starts a manager; Close stops it.
func NewManager(st store.Store, cfg Config) *Manager {
	def := DefaultConfig()
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = def.MaxMessages
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = def.MaxMessageBytes
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = def.IdleTimeout
	}
	if cfg.MaxRuntime <= 0 {
		cfg.MaxRuntime = def.MaxRuntime
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = def.MaxJobs
	}
	if cfg.MaxJobsPerUser <= 0 {
		cfg.MaxJobsPerUser = def.MaxJobsPerUser
	}
	if cfg.MaxRunning <= 0 {
		cfg.MaxRunning = def.MaxRunning
	}
	if cfg.MaxGroups <= 0 {
		cfg.MaxGroups = def.MaxGroups
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewSet()
	}
	m := &Manager{cfg: cfg, store: st, jobs: make(map[string]*Job), stop: make(chan struct{}), slots: make(chan struct{}, cfg.MaxRunning)}
	m.wg.Add(1)
	go m.janitor()
	return m
}

// Close cancels every job and stops the manager. It may be called more
// than once.
func (m *Manager) Close() {
	m.stopOnce.Do(func() { close(m.stop) })
	m.mu.Lock()
	for id, j := range m.jobs {
		j.cancelShutdown()
		delete(m.jobs, id)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// janitor forgets jobs nobody polled for IdleTimeout.
func (m *Manager) janitor() {
	defer m.wg.Done()
	t := time.NewTicker(min(max(m.cfg.IdleTimeout/4, time.Millisecond), 5*time.Second))
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case now := <-t.C:
			m.mu.Lock()
			for id, j := range m.jobs {
				if !j.stream && now.Sub(j.lastTouched()) > m.cfg.IdleTimeout {
					j.cancel()
					delete(m.jobs, id)
					m.cfg.Logger.Info("search job expired: not polled", "id", id, "idle", m.cfg.IdleTimeout)
				}
			}
			m.mu.Unlock()
		}
	}
}

// Request describes a search.
type Request struct {
	Query    string
	From, To time.Time
	Location *time.Location
}

// Error is a client error creating a job: Code is Sumo's dotted code.
type Error struct {
	Code string
	Msg  string
	// Status is the HTTP status to answer with.
	Status int
}

func (e *Error) Error() string { return e.Msg }

// ErrNotFound is returned for unknown, expired or foreign job ids.
var ErrNotFound = errors.New("search job not found")

// Create parses and plans the query and starts the job.
func (m *Manager) Create(p *catalog.Principal, req Request) (*Job, error) {
	return m.start(context.Background(), p, req, false, 0)
}

// StreamOptions tune a streamed search.
type StreamOptions struct {
	// Limit caps the messages a non-aggregate search gathers (at most
	// Config.MaxMessages; 0 means that) and the records a stream sends.
	// Reaching it ends the search normally (StateDone), not force-paused.
	Limit int
}

// Stream starts a search whose results are streamed to one client (the
// NDJSON endpoint): the job is not addressable by id, is never expired for
// lack of polls, counts against the same limits as jobs while it runs,
// and is cancelled as soon as ctx ends (the client went away). Read it with
// Updates, Changed and Done.
func (m *Manager) Stream(ctx context.Context, p *catalog.Principal, req Request, opt StreamOptions) (*Job, error) {
	return m.start(ctx, p, req, true, opt.Limit)
}

// compile parses and plans a query with the manager's options.
func (m *Manager) compile(text string) (*query.Plan, error) {
	q, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	return query.Compile(q, query.CompileOptions{PushDown: !m.cfg.AllGo, MaxGroups: m.cfg.MaxGroups})
}

func (m *Manager) start(parent context.Context, p *catalog.Principal, req Request, stream bool, limit int) (*Job, error) {
	if strings.TrimSpace(req.Query) == "" {
		return nil, &Error{Code: "searchjob.no.query", Msg: "the query is empty", Status: 400}
	}
	if !req.To.After(req.From) {
		return nil, &Error{Code: "searchjob.to.smaller.than.from", Msg: fmt.Sprintf("'to' (%s) must be after 'from' (%s)", req.To.Format(time.RFC3339), req.From.Format(time.RFC3339)), Status: 400}
	}
	plan, err := m.compile(req.Query)
	if err != nil {
		return nil, &Error{Code: "searchjob.parse.error", Msg: err.Error(), Status: 400}
	}
	env := m.envFor(p)
	if err := m.checkEnv(parent, plan, env); err != nil {
		return nil, err
	}
	if req.Location == nil {
		req.Location = time.UTC
	}
	maxMessages, clientLimit := m.cfg.MaxMessages, false
	if limit > 0 && limit < maxMessages {
		maxMessages, clientLimit = limit, true
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.stop:
		return nil, &Error{Code: "service.unavailable", Msg: "the server is shutting down", Status: 503}
	default:
	}
	mine := 0
	for _, j := range m.jobs {
		if j.owner == p.UserID {
			mine++
		}
	}
	if len(m.jobs) >= m.cfg.MaxJobs || mine >= m.cfg.MaxJobsPerUser {
		return nil, &Error{Code: "rate.limit.exceeded", Status: 429,
			Msg: fmt.Sprintf("too many active search jobs (%d of yours, %d in all, counting open result streams; limits %d and %d): delete finished jobs", mine, len(m.jobs), m.cfg.MaxJobsPerUser, m.cfg.MaxJobs)}
	}
	ctx, cancel := context.WithCancel(parent)
	now := time.Now()
	j := &Job{
		ID:          newJobID(),
		owner:       p.UserID,
		req:         req,
		plan:        plan,
		cancel:      cancel,
		created:     now,
		m:           m,
		stream:      stream,
		maxMessages: maxMessages,
		clientLimit: clientLimit,
		limit:       limit,
		env:         env,
		changed:     make(chan struct{}, 1),
		done:        make(chan struct{}),
		state:       StateNotStarted,
		touched:     now,
	}
	m.jobs[j.ID] = j
	kind := "job"
	if stream {
		kind = "stream"
	}
	m.cfg.Metrics.GetOrCreateCounter(fmt.Sprintf(`dohyo_search_jobs_total{kind=%q}`, kind)).Inc()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		j.run(ctx)
	}()
	return j, nil
}

// acquire waits for a running slot; it returns false when ctx ends first.
func (m *Manager) acquire(ctx context.Context) bool {
	select {
	case m.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (m *Manager) release() { <-m.slots }

// forget drops a finished stream's job.
func (m *Manager) forget(j *Job) {
	m.mu.Lock()
	if m.jobs[j.ID] == j {
		delete(m.jobs, j.ID)
	}
	m.mu.Unlock()
}

// Get returns the caller's job.
func (m *Manager) Get(p *catalog.Principal, id string) (*Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok || j.owner != p.UserID || j.stream {
		return nil, ErrNotFound
	}
	j.touch()
	return j, nil
}

// Delete cancels and forgets the caller's job.
func (m *Manager) Delete(p *catalog.Principal, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok || j.owner != p.UserID || j.stream {
		return ErrNotFound
	}
	j.cancelByUser()
	delete(m.jobs, id)
	return nil
}

// Explain parses and plans a query with the manager's options (group
// limit, push-down) and describes the plan.
func (m *Manager) Explain(text string) (string, error) {
	plan, err := m.compile(text)
	if err != nil {
		return "", err
	}
	return plan.Explain(), nil
}

// Explain parses and plans a query with the default options and describes
// the plan.
func Explain(text string) (string, error) {
	q, err := query.Parse(text)
	if err != nil {
		return "", err
	}
	plan, err := query.Compile(q, query.CompileOptions{PushDown: true})
	if err != nil {
		return "", err
	}
	return plan.Explain(), nil
}

// HistogramStep picks a clock-aligned bucket width giving about 60 to 150
// buckets over the range.
func HistogramStep(d time.Duration) time.Duration {
	steps := []time.Duration{
		time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
		time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
	}
	i := sort.Search(len(steps), func(i int) bool { return d/steps[i] <= 150 })
	if i == len(steps) {
		return steps[len(steps)-1]
	}
	return steps[i]
}
