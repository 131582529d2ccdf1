// Package streampump is the local stand-in for Lambda's DynamoDB event source
// mappings: it reads the table's stream from DynamoDB Local and calls each stream
// function's handler with the records it would receive on AWS.
//
// Each Consumer is one event source mapping with its own position in every shard.
// Like Lambda it delivers the records of a shard in order, in batches of at most
// BatchSize records that pass the catalogue's filter patterns (item types, event
// names, statuses: catalogue.Stream.Patterns, the same the stack deploys); retries a batch
// whose handler returns an error, splitting it in two when it fails again
// (BisectBatchOnFunctionError); honours BatchItemFailures by checkpointing before the
// lowest failed record and retrying from it (ReportBatchItemFailures); and after
// MaxRetries retries of a record sends it to a dead-letter file and moves on, so no
// record is silently dropped. Positions are checkpointed to the data dir, so a
// restart resumes after the last processed record.
package streampump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/tribehq/tribe/shared/catalogue"
)

// Handler is a stream function's Lambda handler.
type Handler func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Consumer is one stream function: its name, its filter and batching, and its
// handler.
type Consumer struct {
	Name      string
	ItemTypes []string
	// Events and ModifiedStatuses narrow the records as the catalogue's Stream
	// does (catalogue.Stream.Patterns); no Events means all three.
	Events           []string
	ModifiedStatuses []string
	// BatchSize is the most records per call.
	BatchSize int
	// MaxRetries is how often a failing record is retried before it is
	// dead-lettered; zero dead-letters it on its first failure.
	MaxRetries int
	Handler    Handler
}

// FromCatalogue returns a Consumer for every catalogue function with a Stream
// trigger, with the handler of that name. It fails when a stream function has no
// handler, or a handler names no stream function.
func FromCatalogue(handlers map[string]Handler) ([]Consumer, error) {
	var out []Consumer
	seen := map[string]bool{}
	for _, f := range catalogue.All() {
		if f.Stream == nil {
			continue
		}
		h, ok := handlers[f.Name]
		if !ok || h == nil {
			return nil, fmt.Errorf("streampump: stream function %s has no handler", f.Name)
		}
		seen[f.Name] = true
		out = append(out, Consumer{
			Name:             f.Name,
			ItemTypes:        append([]string(nil), f.Stream.ItemTypes...),
			Events:           append([]string(nil), f.Stream.Events...),
			ModifiedStatuses: append([]string(nil), f.Stream.ModifiedStatuses...),
			BatchSize:        f.Stream.BatchSize,
			MaxRetries:       f.Stream.MaxRetries,
			Handler:          h,
		})
	}
	for name := range handlers {
		if !seen[name] {
			return nil, fmt.Errorf("streampump: handler %s is not a stream function in the catalogue", name)
		}
	}
	return out, nil
}

// Streams is the part of the DynamoDB Streams client the pump uses;
// *dynamodbstreams.Client satisfies it.
type Streams interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Options configure a Pump.
type Options struct {
	// StreamARN is the table's stream (table.Def.Create returns it). Required.
	StreamARN string
	// DataDir keeps checkpoints (checkpoints/<function>/<shard>.json) and dead
	// letters (dlq/<function>.jsonl); empty keeps both in memory.
	DataDir string
	// PollInterval is how long Run waits when a round found nothing; default 200ms.
	PollInterval time.Duration
	// RetryDelay is the wait before the first retry of a failed batch, doubling up to
	// 5s; default 100ms.
	RetryDelay time.Duration
	// Region, when set, is every record's awsRegion; default the record's own.
	Region string
	// StartAtLatest starts a function that has no checkpoint at all at the end of the
	// stream (LATEST) instead of its start (TRIM_HORIZON). Shards that appear later,
	// and every shard once a checkpoint exists, start where they should regardless.
	StartAtLatest bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

const (
	defaultPollInterval = 200 * time.Millisecond
	defaultRetryDelay   = 100 * time.Millisecond
	maxRetryDelay       = 5 * time.Second
	getRecordsLimit     = 1000
	maxBatchSize        = 10000
)

// DeadLetter is a record a function kept failing on.
type DeadLetter struct {
	Function string                     `json:"function"`
	ShardID  string                     `json:"shard_id"`
	Record   events.DynamoDBEventRecord `json:"record"`
	Error    string                     `json:"error"`
	Attempts int                        `json:"attempts"`
	FailedAt time.Time                  `json:"failed_at"`
}

// Pump feeds the stream to the consumers. Run or Drain it, one at a time.
type Pump struct {
	streams  Streams
	o        Options
	log      *slog.Logger
	mappings []*mapping
	busy     sync.Mutex

	mu   sync.Mutex
	dead map[string][]DeadLetter
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// New returns a pump for the consumers, loading their checkpoints and dead letters
// from the data dir. It fails on a nil client, a missing stream ARN, a consumer
// without name, item types, handler or a batch size of 1 to 10000, and on duplicate
// consumer names.
func New(streams Streams, consumers []Consumer, o Options) (*Pump, error) {
	if streams == nil {
		return nil, errors.New("streampump: nil streams client")
	}
	if o.StreamARN == "" {
		return nil, errors.New("streampump: no stream ARN")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = defaultPollInterval
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = defaultRetryDelay
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	p := &Pump{streams: streams, o: o, log: o.Logger, dead: map[string][]DeadLetter{}}
	for _, c := range consumers {
		switch {
		case !nameRE.MatchString(c.Name):
			return nil, fmt.Errorf("streampump: consumer name %q must be lower-case letters, digits, - and _", c.Name)
		case len(c.ItemTypes) == 0:
			return nil, fmt.Errorf("streampump: %s: no item types", c.Name)
		case c.BatchSize < 1 || c.BatchSize > maxBatchSize:
			return nil, fmt.Errorf("streampump: %s: batch size %d outside 1-%d", c.Name, c.BatchSize, maxBatchSize)
		case c.MaxRetries < 0:
			return nil, fmt.Errorf("streampump: %s: negative max retries", c.Name)
		case c.Handler == nil:
			return nil, fmt.Errorf("streampump: %s: nil handler", c.Name)
		}
		if _, ok := p.dead[c.Name]; ok {
			return nil, fmt.Errorf("streampump: consumer %s given twice", c.Name)
		}
		dead, err := p.loadDeadLetters(c.Name)
		if err != nil {
			return nil, err
		}
		p.dead[c.Name] = dead
		filter := catalogue.Stream{ItemTypes: c.ItemTypes, Events: c.Events, ModifiedStatuses: c.ModifiedStatuses}
		if len(filter.Events) == 0 {
			filter.Events = []string{catalogue.EventInsert, catalogue.EventModify, catalogue.EventRemove}
		}
		p.mappings = append(p.mappings, &mapping{
			p: p, c: c, patterns: filter.Patterns(), shards: map[string]*shard{},
			log: p.log.With("function", c.Name),
		})
	}
	return p, nil
}

// DeadLetters returns the records function gave up on, oldest first, including those
// recorded in the data dir by earlier runs.
func (p *Pump) DeadLetters(function string) []DeadLetter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]DeadLetter(nil), p.dead[function]...)
}

// Run feeds new records to the consumers until ctx is done, then returns nil. Errors
// reading the stream are logged and retried; handler failures are retried and
// dead-lettered as the package documentation says. It fails only when the pump is
// already running.
func (p *Pump) Run(ctx context.Context) error {
	if !p.busy.TryLock() {
		return errors.New("streampump: already running")
	}
	defer p.busy.Unlock()
	var wg sync.WaitGroup
	for _, m := range p.mappings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				progressed, err := m.round(ctx)
				if err != nil && ctx.Err() == nil {
					m.log.Warn("streampump: reading the stream", "error", err)
				}
				if progressed && err == nil {
					continue
				}
				select {
				case <-ctx.Done():
				case <-time.After(p.o.PollInterval):
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// Drain feeds the consumers every record available now and returns when a further
// read finds nothing new for any consumer, for tests and one-shot tools: records a
// consumer writes while another has already caught up (a join's member update
// that the counters count) are fed too. It returns the first error reading the
// stream, or ctx's error.
func (p *Pump) Drain(ctx context.Context) error {
	if !p.busy.TryLock() {
		return errors.New("streampump: already running")
	}
	defer p.busy.Unlock()
	for {
		// One listing of the shards serves every consumer's rounds in this pass: a
		// shard a consumer's write opens is listed by the next pass, which there is
		// whenever anything was written.
		listed, err := p.describe(ctx)
		if err != nil {
			return fmt.Errorf("streampump: %w", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(p.mappings))
		rounds := make([]int, len(p.mappings))
		for i, m := range p.mappings {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					progressed, err := m.roundOf(ctx, listed)
					if err != nil {
						errs[i] = fmt.Errorf("streampump: %s: %w", m.c.Name, err)
						return
					}
					if !progressed {
						return
					}
					rounds[i]++
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		// Something moved: what it wrote may be waiting for a consumer that had
		// caught up before; go again until a whole pass moves nothing.
		moved := 0
		for _, n := range rounds {
			moved += n
		}
		if moved == 0 {
			return nil
		}
	}
}

// mapping is one consumer's event source mapping: its position in every shard.
type mapping struct {
	p        *Pump
	c        Consumer
	patterns []map[string]any
	log      *slog.Logger
	shards   map[string]*shard
	order    []string // shard ids in the order DescribeStream listed them
	seen     bool     // the stream has been described once
}

// shard is a mapping's position in one shard.
type shard struct {
	id, parent string
	checkpoint string // sequence number of the last record done with
	finished   bool   // closed and read to its end
	latest     bool   // start at LATEST
	iter       *string
}

// round reads every shard the mapping may read now, parents before children, and
// delivers what it finds. progressed is true when it handled records or finished a
// shard.
func (m *mapping) round(ctx context.Context) (progressed bool, err error) {
	listed, err := m.p.describe(ctx)
	if err != nil {
		return false, err
	}
	return m.roundOf(ctx, listed)
}

// roundOf is round over the shards a DescribeStream listed.
func (m *mapping) roundOf(ctx context.Context, listed []types.Shard) (progressed bool, err error) {
	if err := m.discover(listed); err != nil {
		return false, err
	}
	// A parent finished in this pass frees its children for the next.
	for pass := 0; pass <= len(m.order); pass++ {
		passProgress := false
		for _, id := range m.order {
			s := m.shards[id]
			if s.finished || !m.parentDone(s) {
				continue
			}
			got, err := m.poll(ctx, s)
			if err != nil {
				return progressed || got, err
			}
			if got {
				passProgress, progressed = true, true
			}
		}
		if !passProgress {
			break
		}
	}
	return progressed, nil
}

func (m *mapping) parentDone(s *shard) bool {
	if s.parent == "" {
		return true
	}
	parent, ok := m.shards[s.parent]
	// A parent the stream no longer lists has been trimmed: nothing to wait for.
	return !ok || parent.finished
}

// discover adds the shards not seen before, with their checkpoints.
func (m *mapping) discover(listed []types.Shard) error {
	first := !m.seen
	m.seen = true
	anyCheckpoint := false
	closed := map[string]bool{}
	var added []*shard
	for _, sh := range listed {
		id := aws.ToString(sh.ShardId)
		if _, ok := m.shards[id]; ok || id == "" {
			continue
		}
		cp, err := m.p.loadCheckpoint(m.c.Name, id)
		if err != nil {
			return err
		}
		s := &shard{id: id, parent: aws.ToString(sh.ParentShardId), checkpoint: cp.SequenceNumber, finished: cp.Finished}
		anyCheckpoint = anyCheckpoint || s.checkpoint != "" || s.finished
		closed[id] = sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
		m.shards[id] = s
		m.order = append(m.order, id)
		added = append(added, s)
	}
	if !first || !m.p.o.StartAtLatest || anyCheckpoint {
		return nil
	}
	m.log.Info("streampump: no checkpoint: starting at the end of the stream")
	for _, s := range added {
		if !closed[s.id] {
			s.latest = true
			continue
		}
		// A closed shard has no end to start at: its history is skipped.
		s.finished = true
		if err := m.p.saveCheckpoint(m.c.Name, s); err != nil {
			return err
		}
	}
	return nil
}

// poll reads a shard from the mapping's position to what is there now and delivers
// it. It returns true when it handled records or found the shard's end.
func (m *mapping) poll(ctx context.Context, s *shard) (bool, error) {
	if s.iter == nil {
		it, err := m.iterator(ctx, s)
		if err != nil {
			return false, err
		}
		if it == nil {
			return true, nil
		}
		s.iter = it
	}
	progressed := false
	for {
		out, err := m.p.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
			ShardIterator: s.iter,
			Limit:         aws.Int32(getRecordsLimit),
		})
		var expired *types.ExpiredIteratorException
		var trimmed *types.TrimmedDataAccessException
		if errors.As(err, &expired) || errors.As(err, &trimmed) {
			// Start again from the checkpoint on the next round.
			s.iter = nil
			return progressed, nil
		}
		if err != nil {
			return progressed, fmt.Errorf("get records of %s: %w", s.id, err)
		}
		s.iter = out.NextShardIterator
		if len(out.Records) > 0 {
			progressed = true
			if err := m.deliver(ctx, s, out.Records); err != nil {
				// Records of this page may be unhandled: reread from the checkpoint.
				s.iter = nil
				return progressed, err
			}
			s.latest = false
		}
		if s.iter == nil {
			s.finished = true
			m.log.Info("streampump: shard finished", "shard", s.id)
			return true, m.p.saveCheckpoint(m.c.Name, s)
		}
		if len(out.Records) == 0 {
			return progressed, nil
		}
	}
}

// iterator returns a shard iterator at the mapping's position, or nil when the shard
// is gone (and now marked finished).
func (m *mapping) iterator(ctx context.Context, s *shard) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{
		StreamArn:         aws.String(m.p.o.StreamARN),
		ShardId:           aws.String(s.id),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	}
	switch {
	case s.checkpoint != "":
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.SequenceNumber = aws.String(s.checkpoint)
	case s.latest:
		in.ShardIteratorType = types.ShardIteratorTypeLatest
	}
	out, err := m.p.streams.GetShardIterator(ctx, in)
	var trimmed *types.TrimmedDataAccessException
	if errors.As(err, &trimmed) && s.checkpoint != "" {
		m.log.Warn("streampump: checkpoint trimmed from the stream: records after it and before the oldest kept one are lost", "shard", s.id, "sequence_number", s.checkpoint)
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeTrimHorizon, nil
		out, err = m.p.streams.GetShardIterator(ctx, in)
	}
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		m.log.Warn("streampump: shard gone", "shard", s.id)
		s.finished = true
		return nil, m.p.saveCheckpoint(m.c.Name, s)
	}
	if err != nil {
		return nil, fmt.Errorf("shard iterator for %s: %w", s.id, err)
	}
	return out.ShardIterator, nil
}

// deliver hands a page of records to the handler in batches of the records that pass
// the filter, then checkpoints past the page. It returns only ctx's error or one
// saving a checkpoint.
func (m *mapping) deliver(ctx context.Context, s *shard, page []types.Record) error {
	var batch []events.DynamoDBEventRecord
	for _, r := range page {
		rec := convertRecord(r, m.p.o.StreamARN, m.p.o.Region)
		if !m.matches(rec) {
			continue
		}
		batch = append(batch, rec)
		if len(batch) == m.c.BatchSize {
			if err := m.process(ctx, s, batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	if len(batch) > 0 {
		if err := m.process(ctx, s, batch); err != nil {
			return err
		}
	}
	// Records the filter dropped at the end of the page are done with too.
	last := page[len(page)-1]
	if last.Dynamodb != nil && last.Dynamodb.SequenceNumber != nil {
		return m.checkpoint(s, *last.Dynamodb.SequenceNumber)
	}
	return nil
}

// matches applies the consumer's filter patterns, the ones the stack deploys as the
// event source mapping's filter criteria, to the record.
func (m *mapping) matches(r events.DynamoDBEventRecord) bool {
	doc := map[string]any{
		"eventName": r.EventName,
		"dynamodb": map[string]any{
			"NewImage": filterView(r.Change.NewImage),
			"OldImage": filterView(r.Change.OldImage),
		},
	}
	for _, p := range m.patterns {
		if catalogue.MatchPattern(p, doc) {
			return true
		}
	}
	return false
}

// filterView is an image as Lambda's event filtering sees it, as far as the
// patterns look: its string attributes as {"S": value}.
func filterView(img map[string]events.DynamoDBAttributeValue) map[string]any {
	out := make(map[string]any, len(img))
	for k, v := range img {
		if v.DataType() == events.DataTypeString {
			out[k] = map[string]any{"S": v.String()}
		}
	}
	return out
}

// process calls the handler with one batch until every record in it has succeeded or
// been dead-lettered.
//
// An error fails the whole batch: it is retried once as it is, then split in halves
// that are retried on their own, down to single records. BatchItemFailures checkpoint
// before the lowest failed record and retry from it. A single record that still fails
// after MaxRetries retries is dead-lettered, and the rest carry on.
func (m *mapping) process(ctx context.Context, s *shard, batch []events.DynamoDBEventRecord) error {
	queue := [][]events.DynamoDBEventRecord{batch}
	failures := 0 // consecutive failures of queue[0]'s first record
	for len(queue) > 0 {
		w := queue[0]
		resp, err := m.call(ctx, w)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failedAt := 0
		if err == nil {
			if len(resp.BatchItemFailures) == 0 {
				if err := m.checkpoint(s, seq(w[len(w)-1])); err != nil {
					return err
				}
				queue, failures = queue[1:], 0
				continue
			}
			var ok bool
			if failedAt, ok = lowestFailure(w, resp.BatchItemFailures); !ok {
				// Like Lambda: an identifier that names no record fails the batch.
				err = fmt.Errorf("batch item failures %v name no record of the batch", resp.BatchItemFailures)
			}
		}
		partial := err == nil
		if partial {
			err = errors.New("reported in batchItemFailures")
			if failedAt > 0 {
				if err := m.checkpoint(s, seq(w[failedAt-1])); err != nil {
					return err
				}
				w, failures = w[failedAt:], 0
				queue[0] = w
			}
		}
		failures++
		m.log.Warn("streampump: batch failed", "shard", s.id, "records", len(w),
			"first_sequence_number", seq(w[0]), "failures", failures, "error", err)
		switch {
		case failures > m.c.MaxRetries && (len(w) == 1 || partial):
			// The first record is the one failing: give up on it.
			if err := m.deadLetter(s, w[0], err, failures); err != nil {
				return err
			}
			if len(w) == 1 {
				queue = queue[1:]
			} else {
				queue[0] = w[1:]
			}
			failures = 0
			continue
		case !partial && len(w) > 1 && failures >= 2:
			half := len(w) / 2
			queue = append([][]events.DynamoDBEventRecord{w[:half], w[half:]}, queue[1:]...)
			failures = 0
		}
		if err := sleep(ctx, m.retryDelay(failures)); err != nil {
			return err
		}
	}
	return nil
}

func (m *mapping) retryDelay(failures int) time.Duration {
	d := m.p.o.RetryDelay
	for i := 1; i < failures && d < maxRetryDelay; i++ {
		d *= 2
	}
	return min(d, maxRetryDelay)
}

// call runs the handler on a copy of the batch, turning a panic into an error: a
// consumer never takes the process down.
func (m *mapping) call(ctx context.Context, w []events.DynamoDBEventRecord) (resp events.DynamoDBEventResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return m.c.Handler(ctx, events.DynamoDBEvent{Records: append([]events.DynamoDBEventRecord(nil), w...)})
}

func lowestFailure(w []events.DynamoDBEventRecord, failures []events.DynamoDBBatchItemFailure) (int, bool) {
	index := make(map[string]int, len(w))
	for i, r := range w {
		index[seq(r)] = i
	}
	lowest := len(w)
	for _, f := range failures {
		i, ok := index[f.ItemIdentifier]
		if !ok {
			return 0, false
		}
		lowest = min(lowest, i)
	}
	return lowest, true
}

func seq(r events.DynamoDBEventRecord) string { return r.Change.SequenceNumber }

func (m *mapping) checkpoint(s *shard, sequenceNumber string) error {
	s.checkpoint = sequenceNumber
	return m.p.saveCheckpoint(m.c.Name, s)
}

func (m *mapping) deadLetter(s *shard, r events.DynamoDBEventRecord, cause error, attempts int) error {
	d := DeadLetter{
		Function: m.c.Name,
		ShardID:  s.id,
		Record:   r,
		Error:    cause.Error(),
		Attempts: attempts,
		FailedAt: time.Now().UTC(),
	}
	m.log.Error("streampump: record dead-lettered after retries", "shard", s.id,
		"sequence_number", seq(r), "event_id", r.EventID, "attempts", attempts, "error", cause)
	m.p.mu.Lock()
	m.p.dead[m.c.Name] = append(m.p.dead[m.c.Name], d)
	m.p.mu.Unlock()
	if err := m.p.appendDeadLetter(d); err != nil {
		return err
	}
	return m.checkpoint(s, seq(r))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// describe lists every shard of the stream.
func (p *Pump) describe(ctx context.Context) ([]types.Shard, error) {
	var shards []types.Shard
	var start *string
	for {
		out, err := p.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{
			StreamArn:             aws.String(p.o.StreamARN),
			ExclusiveStartShardId: start,
		})
		if err != nil {
			return nil, fmt.Errorf("describe stream: %w", err)
		}
		if out.StreamDescription == nil {
			return shards, nil
		}
		shards = append(shards, out.StreamDescription.Shards...)
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return shards, nil
		}
	}
}

// checkpointFile is the JSON kept per function and shard.
type checkpointFile struct {
	StreamARN      string `json:"stream_arn"`
	SequenceNumber string `json:"sequence_number,omitempty"`
	Finished       bool   `json:"finished,omitempty"`
}
