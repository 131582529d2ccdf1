package streampump

// The pump's state on disk: a checkpoint per function and shard, and each
// function's dead letters.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

func (p *Pump) checkpointPath(function, shardID string) string {
	return filepath.Join(p.o.DataDir, "checkpoints", function, shardID+".json")
}

// loadCheckpoint reads a shard's checkpoint; one of another stream (the table was
// recreated) does not count.
func (p *Pump) loadCheckpoint(function, shardID string) (checkpointFile, error) {
	if p.o.DataDir == "" {
		return checkpointFile{}, nil
	}
	b, err := os.ReadFile(p.checkpointPath(function, shardID))
	if errors.Is(err, os.ErrNotExist) {
		return checkpointFile{}, nil
	}
	if err != nil {
		return checkpointFile{}, fmt.Errorf("read checkpoint: %w", err)
	}
	var cp checkpointFile
	if err := json.Unmarshal(b, &cp); err != nil {
		return checkpointFile{}, fmt.Errorf("read checkpoint %s: %w", p.checkpointPath(function, shardID), err)
	}
	if cp.StreamARN != p.o.StreamARN {
		return checkpointFile{}, nil
	}
	return cp, nil
}

func (p *Pump) saveCheckpoint(function string, s *shard) error {
	if p.o.DataDir == "" {
		return nil
	}
	path := p.checkpointPath(function, s.id)
	b, err := json.Marshal(checkpointFile{StreamARN: p.o.StreamARN, SequenceNumber: s.checkpoint, Finished: s.finished})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

func (p *Pump) deadLetterPath(function string) string {
	return filepath.Join(p.o.DataDir, "dlq", function+".jsonl")
}

func (p *Pump) loadDeadLetters(function string) ([]DeadLetter, error) {
	if p.o.DataDir == "" {
		return nil, nil
	}
	b, err := os.ReadFile(p.deadLetterPath(function))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("streampump: read dead letters: %w", err)
	}
	var out []DeadLetter
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var d DeadLetter
		if err := json.Unmarshal(line, &d); err != nil {
			return nil, fmt.Errorf("streampump: read %s: %w", p.deadLetterPath(function), err)
		}
		out = append(out, d)
	}
	return out, nil
}

func (p *Pump) appendDeadLetter(d DeadLetter) error {
	if p.o.DataDir == "" {
		return nil
	}
	path := p.deadLetterPath(d.Function)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write dead letter: %w", err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("write dead letter: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write dead letter: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write dead letter: %w", err)
	}
	return f.Close()
}
