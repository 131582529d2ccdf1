// Package scheduler is the local stand-in for EventBridge Scheduler: it keeps
// schedules (in a JSON file when given a data dir, so they survive a restart of
// `make dev`) and, in Run, invokes each schedule's target function when it is due.
//
// It behaves like the service where that matters to the code under test: a rate()
// schedule first fires when it is created, a one-time at() schedule is deleted after
// it has fired, context attributes in the Input are replaced, and a failing target is
// retried with backoff and then dead-lettered. Unlike the service it catches up after
// downtime: runs missed while it was stopped fire once, as the latest missed run.
package scheduler

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/schedule"
)

// Invoke runs the catalogue function target with input, as Lambda would.
type Invoke func(ctx context.Context, target string, input json.RawMessage) error

// Files the emulator keeps in its data dir.
const (
	SchedulesFile   = "schedules.json"
	DeadLetterFile  = "scheduler-dlq.jsonl"
	defaultInterval = time.Second
	defaultRetries  = 3
	defaultBackoff  = time.Second
	maxBackoff      = time.Minute
)

// Context attributes replaced in a schedule's Input when it fires.
const (
	attrScheduleARN = "<aws.scheduler.schedule-arn>"
	attrExecutionID = "<aws.scheduler.execution-id>"
	attrAttempt     = "<aws.scheduler.attempt-number>"
)

// DeadLetter is a firing whose target kept failing.
type DeadLetter struct {
	Schedule      string          `json:"schedule"`
	Target        string          `json:"target"`
	Input         json.RawMessage `json:"input"`
	ScheduledTime time.Time       `json:"scheduled_time"`
	Attempts      int             `json:"attempts"`
	Error         string          `json:"error"`
	FailedAt      time.Time       `json:"failed_at"`
}

// Option configures an Emulator.
type Option func(*Emulator)

// WithDataDir keeps the schedules in dir/schedules.json and appends dead letters to
// dir/scheduler-dlq.jsonl. Without it both live in memory only.
func WithDataDir(dir string) Option { return func(e *Emulator) { e.dir = dir } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(e *Emulator) { e.now = now } }

// WithInterval sets how often Run looks for due schedules; default one second.
func WithInterval(d time.Duration) Option { return func(e *Emulator) { e.interval = d } }

// WithRetry sets how often a failing target is retried (default 3) and the wait
// before the first retry (default 1s), which doubles for each further one up to a
// minute.
func WithRetry(retries int, backoff time.Duration) Option {
	return func(e *Emulator) { e.retries, e.backoff = retries, backoff }
}

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(e *Emulator) { e.log = l } }

// Emulator is the local schedule.Scheduler. It is safe for concurrent use.
type Emulator struct {
	invoke   Invoke
	dir      string
	now      func() time.Time
	interval time.Duration
	retries  int
	backoff  time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	entries map[string]*entry
	gen     uint64
	dead    []DeadLetter
}

var _ schedule.Scheduler = (*Emulator)(nil)

// entry is a schedule with the time it is next due; a zero Due never fires.
type entry struct {
	Schedule schedule.Schedule
	Due      time.Time
	gen      uint64
}

// stored is the JSON form of an entry in SchedulesFile.
type stored struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
	Timezone   string `json:"timezone,omitempty"`
	Target     string `json:"target"`
	// Input is kept as a string: re-encoding it as JSON would escape the angle
	// brackets of the context attributes, which then no longer match.
	Input string     `json:"input,omitempty"`
	Due   *time.Time `json:"due,omitempty"`
}

// New returns an emulator that fires schedules through invoke, loading the schedules
// kept in the data dir. It fails when invoke is nil, an option is out of range, or
// the schedules file cannot be read.
func New(invoke Invoke, opts ...Option) (*Emulator, error) {
	if invoke == nil {
		return nil, errors.New("scheduler: nil invoke")
	}
	e := &Emulator{
		invoke:   invoke,
		now:      time.Now,
		interval: defaultInterval,
		retries:  defaultRetries,
		backoff:  defaultBackoff,
		log:      slog.Default(),
		entries:  map[string]*entry{},
	}
	for _, o := range opts {
		o(e)
	}
	switch {
	case e.now == nil || e.log == nil:
		return nil, errors.New("scheduler: nil clock or logger")
	case e.interval <= 0:
		return nil, fmt.Errorf("scheduler: interval %s must be positive", e.interval)
	case e.retries < 0 || e.backoff < 0:
		return nil, fmt.Errorf("scheduler: retries %d and backoff %s must not be negative", e.retries, e.backoff)
	}
	if err := e.load(); err != nil {
		return nil, err
	}
	return e, nil
}

// Put creates or replaces the schedule s. A schedule put again unchanged keeps its
// next run, so registering the catalogue at every start does not move it. It fails
// with schedule.ErrInvalid when s does not validate, or when the schedules file cannot
// be written.
func (e *Emulator) Put(_ context.Context, s schedule.Schedule) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.Input = bytes.Clone(s.Input)
	e.mu.Lock()
	defer e.mu.Unlock()
	if old, ok := e.entries[s.Name]; ok && reflect.DeepEqual(old.Schedule, s) {
		return nil
	}
	due, err := e.firstDue(s)
	if err != nil {
		return err
	}
	if due.IsZero() {
		e.log.Warn("scheduler: one-time schedule is in the past and will not fire", "schedule", s.Name, "expression", s.Expression)
	}
	e.gen++
	e.entries[s.Name] = &entry{Schedule: s, Due: due, gen: e.gen}
	return e.saveLocked()
}

// firstDue is when a new schedule first fires: at once for rate() (EventBridge
// Scheduler starts a rate schedule without a start date immediately), else its next
// time after now; never before its start date nor at or after its end date.
func (e *Emulator) firstDue(s schedule.Schedule) (time.Time, error) {
	next, ok, err := s.First(e.now())
	if err != nil || !ok {
		return time.Time{}, err
	}
	return next, nil
}

// Delete removes the schedule called name; a missing one is not an error. It fails
// only when the schedules file cannot be written.
func (e *Emulator) Delete(_ context.Context, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.entries[name]; !ok {
		return nil
	}
	delete(e.entries, name)
	return e.saveLocked()
}

// List returns the schedules, sorted by name.
func (e *Emulator) List() []schedule.Schedule {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]schedule.Schedule, 0, len(e.entries))
	for _, en := range e.entries {
		out = append(out, en.Schedule)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NextRun returns when the schedule called name is next due; ok is false when there
// is no such schedule or it will not fire again.
func (e *Emulator) NextRun(name string) (due time.Time, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	en, ok := e.entries[name]
	if !ok || en.Due.IsZero() {
		return time.Time{}, false
	}
	return en.Due, true
}

// DeadLetters returns the firings that failed after every retry, oldest first,
// including those recorded in the data dir by earlier runs.
func (e *Emulator) DeadLetters() []DeadLetter {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]DeadLetter(nil), e.dead...)
}

// RegisterCatalogue puts the schedule of every catalogue function that has one (see
// schedule.Catalogue) and deletes kept schedules whose target is no longer in the
// catalogue.
func (e *Emulator) RegisterCatalogue(ctx context.Context) error {
	for _, s := range schedule.Catalogue() {
		if err := e.Put(ctx, s); err != nil {
			return fmt.Errorf("scheduler: register %s: %w", s.Name, err)
		}
	}
	for _, s := range e.List() {
		if _, ok := catalogue.Lookup(s.Target); ok {
			continue
		}
		e.log.Warn("scheduler: deleting schedule of a function no longer in the catalogue", "schedule", s.Name, "target", s.Target)
		if err := e.Delete(ctx, s.Name); err != nil {
			return err
		}
	}
	return nil
}

// Run fires due schedules every interval until ctx is done, then returns nil. A
// firing that is still retrying when ctx ends is not recorded, so it fires again on
// the next start.
func (e *Emulator) Run(ctx context.Context) error {
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		e.Tick(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// firing is one due run of a schedule.
type firing struct {
	s         schedule.Schedule
	gen       uint64
	scheduled time.Time
	skipped   int
}

// Tick fires every schedule due at the clock's now and returns when they have all
// finished, retries included. Schedules fire concurrently; a schedule that missed
// several runs fires once, for the latest.
func (e *Emulator) Tick(ctx context.Context) {
	now := e.now()
	e.mu.Lock()
	var due []firing
	for _, en := range e.entries {
		if en.Due.IsZero() || en.Due.After(now) {
			continue
		}
		f := firing{s: en.Schedule, gen: en.gen, scheduled: en.Due}
		for {
			next, ok, err := f.s.Next(f.scheduled)
			if err != nil || !ok || next.After(now) {
				break
			}
			f.scheduled = next
			f.skipped++
		}
		due = append(due, f)
	}
	e.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].s.Name < due[j].s.Name })

	var wg sync.WaitGroup
	for _, f := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f.skipped > 0 {
				e.log.Info("scheduler: missed runs coalesced", "schedule", f.s.Name, "missed", f.skipped)
			}
			if !e.fire(ctx, f) {
				return
			}
			e.advance(f)
		}()
	}
	wg.Wait()
}

// fire invokes the target, retrying with backoff; after the last retry it records a
// dead letter. It returns false only when ctx ended first.
func (e *Emulator) fire(ctx context.Context, f firing) bool {
	var err error
	wait := e.backoff
	attempts := 0
	for attempt := 1; attempt <= e.retries+1; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(wait):
			}
			wait = min(2*wait, maxBackoff)
		}
		attempts = attempt
		err = e.invokeSafely(ctx, f.s.Target, e.input(f, attempt))
		if err == nil {
			e.log.Info("scheduler: fired", "schedule", f.s.Name, "target", f.s.Target, "scheduled_time", f.scheduled, "attempt", attempt)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		e.log.Warn("scheduler: target failed", "schedule", f.s.Name, "target", f.s.Target, "attempt", attempt, "error", err)
	}
	d := DeadLetter{
		Schedule:      f.s.Name,
		Target:        f.s.Target,
		Input:         f.s.Input,
		ScheduledTime: f.scheduled,
		Attempts:      attempts,
		Error:         err.Error(),
		FailedAt:      e.now(),
	}
	e.log.Error("scheduler: dead-lettered after retries", "schedule", f.s.Name, "target", f.s.Target, "attempts", attempts, "error", err)
	e.mu.Lock()
	e.dead = append(e.dead, d)
	e.mu.Unlock()
	if err := e.appendDeadLetter(d); err != nil {
		e.log.Error("scheduler: write dead letter", "schedule", f.s.Name, "error", err)
	}
	return true
}

// invokeSafely turns a panic in the target into an error: the loop must not die.
func (e *Emulator) invokeSafely(ctx context.Context, target string, input json.RawMessage) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("target %s panicked: %v", target, r)
		}
	}()
	return e.invoke(ctx, target, input)
}

// input is the schedule's Input with the context attributes replaced.
func (e *Emulator) input(f firing, attempt int) json.RawMessage {
	if len(f.s.Input) == 0 {
		return json.RawMessage(`{}`)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	r := strings.NewReplacer(
		schedule.ScheduledTimeAttribute, f.scheduled.UTC().Format(time.RFC3339),
		attrScheduleARN, "arn:aws:scheduler:local:000000000000:schedule/local/"+f.s.Name,
		attrExecutionID, hex.EncodeToString(id[:]),
		attrAttempt, strconv.Itoa(attempt),
	)
	return json.RawMessage(r.Replace(string(f.s.Input)))
}

// advance moves the schedule past a finished firing, or deletes it when it will not
// fire again (a one-time schedule). A schedule replaced meanwhile is left alone.
func (e *Emulator) advance(f firing) {
	e.mu.Lock()
	defer e.mu.Unlock()
	en, ok := e.entries[f.s.Name]
	if !ok || en.gen != f.gen {
		return
	}
	next, ok, err := f.s.Next(f.scheduled)
	if err != nil || !ok {
		delete(e.entries, f.s.Name)
	} else {
		en.Due = next
	}
	if err := e.saveLocked(); err != nil {
		e.log.Error("scheduler: save schedules", "error", err)
	}
}

func (e *Emulator) load() error {
	if e.dir == "" {
		return nil
	}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return fmt.Errorf("scheduler: data dir: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(e.dir, SchedulesFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("scheduler: read schedules: %w", err)
	}
	if len(b) > 0 {
		var list []stored
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("scheduler: read %s: %w", SchedulesFile, err)
		}
		for _, st := range list {
			s := schedule.Schedule{Name: st.Name, Expression: st.Expression, Timezone: st.Timezone, Target: st.Target}
			if st.Input != "" {
				s.Input = json.RawMessage(st.Input)
			}
			if err := s.Validate(); err != nil {
				e.log.Warn("scheduler: dropping invalid kept schedule", "schedule", st.Name, "error", err)
				continue
			}
			en := &entry{Schedule: s}
			if st.Due != nil {
				en.Due = *st.Due
			}
			e.gen++
			en.gen = e.gen
			e.entries[s.Name] = en
		}
	}
	dl, err := os.ReadFile(filepath.Join(e.dir, DeadLetterFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("scheduler: read dead letters: %w", err)
	}
	for _, line := range bytes.Split(dl, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var d DeadLetter
		if err := json.Unmarshal(line, &d); err != nil {
			return fmt.Errorf("scheduler: read %s: %w", DeadLetterFile, err)
		}
		e.dead = append(e.dead, d)
	}
	return nil
}

func (e *Emulator) saveLocked() error {
	if e.dir == "" {
		return nil
	}
	list := make([]stored, 0, len(e.entries))
	for _, en := range e.entries {
		s := en.Schedule
		st := stored{Name: s.Name, Expression: s.Expression, Timezone: s.Timezone, Target: s.Target, Input: string(s.Input)}
		if !en.Due.IsZero() {
			due := en.Due
			st.Due = &due
		}
		list = append(list, st)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return fmt.Errorf("scheduler: encode schedules: %w", err)
	}
	return writeAtomic(filepath.Join(e.dir, SchedulesFile), b)
}

func (e *Emulator) appendDeadLetter(d DeadLetter) error {
	if e.dir == "" {
		return nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(e.dir, DeadLetterFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeAtomic replaces path with b so that a crash leaves the old or the new file.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("scheduler: save: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("scheduler: save: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("scheduler: save: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("scheduler: save: %w", err)
	}
	return nil
}
