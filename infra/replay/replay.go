// Command replay re-drives the stream records a consumer gave up on. Lambda's event
// source mappings write each batch they discard, whole, to the stack's stream
// failure bucket (output StreamFailureBucketName) as an invocation record: the
// function's ARN, why it failed and the event it was given. replay reads every
// record under the prefix, invokes the same function (the ARN in the record, which
// is its live alias) with the same event, and moves each object it re-drove
// without a failure under replayed/; an object whose replay fails again stays where
// it is, so replay can run again once the cause is fixed. Consumers are idempotent,
// so a record that had in part succeeded posts nothing twice.
//
//	go run ./infra/replay -bucket <name> [-prefix aws/lambda/] [-dry-run]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ReplayedPrefix is where re-driven objects are moved.
const ReplayedPrefix = "replayed/"

// Record is an invocation record as Lambda writes it to an S3 on-failure
// destination: the metadata and the whole event.
type Record struct {
	RequestContext struct {
		RequestID   string `json:"requestId"`
		FunctionARN string `json:"functionArn"`
		Condition   string `json:"condition"`
	} `json:"requestContext"`
	// Payload is the event the function was given, as a JSON object or as a
	// string holding one.
	Payload json.RawMessage `json:"payload"`
}

// Parse reads an invocation record: the function it was for and its event.
func Parse(b []byte) (string, events.DynamoDBEvent, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return "", events.DynamoDBEvent{}, fmt.Errorf("invocation record: %w", err)
	}
	if r.RequestContext.FunctionARN == "" || len(r.Payload) == 0 {
		return "", events.DynamoDBEvent{}, errors.New("invocation record has no function ARN or payload")
	}
	payload := []byte(r.Payload)
	var s string
	if json.Unmarshal(payload, &s) == nil {
		payload = []byte(s)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return "", events.DynamoDBEvent{}, fmt.Errorf("invocation record payload: %w", err)
	}
	if len(ev.Records) == 0 {
		return "", events.DynamoDBEvent{}, errors.New("invocation record payload holds no stream records")
	}
	return r.RequestContext.FunctionARN, ev, nil
}

// Bucket is what replay needs of the failure bucket.
type Bucket interface {
	List(ctx context.Context, prefix string) ([]string, error)
	Get(ctx context.Context, key string) ([]byte, error)
	// Move renames key to dst.
	Move(ctx context.Context, key, dst string) error
}

// Invoke calls the consumer function with the event, as Lambda's event source
// mapping would, and returns its answer.
type Invoke func(ctx context.Context, function string, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Report is what a replay did.
type Report struct {
	Objects  int `json:"objects"`
	Records  int `json:"records"`
	Replayed int `json:"replayed"`
	Failed   int `json:"failed"`
	// Unreadable objects are left alone and named in the log.
	Unreadable int `json:"unreadable"`
}

// Replay re-drives every invocation record under prefix through invoke. dryRun
// reads and counts without invoking or moving anything.
func Replay(ctx context.Context, b Bucket, invoke Invoke, prefix string, dryRun bool, log *slog.Logger) (Report, error) {
	var rep Report
	keys, err := b.List(ctx, prefix)
	if err != nil {
		return rep, err
	}
	for _, key := range keys {
		if strings.HasPrefix(key, ReplayedPrefix) {
			continue
		}
		rep.Objects++
		body, err := b.Get(ctx, key)
		if err != nil {
			return rep, err
		}
		fn, ev, err := Parse(body)
		if err != nil {
			rep.Unreadable++
			log.Error("replay: unreadable object", "key", key, "err", err)
			continue
		}
		rep.Records += len(ev.Records)
		if dryRun {
			log.Info("replay: would re-drive", "key", key, "function", fn, "records", len(ev.Records))
			continue
		}
		resp, err := invoke(ctx, fn, ev)
		if err == nil && len(resp.BatchItemFailures) > 0 {
			err = fmt.Errorf("%d of %d records failed again", len(resp.BatchItemFailures), len(ev.Records))
		}
		if err != nil {
			rep.Failed++
			log.Error("replay: failed again; kept for the next run", "key", key, "function", fn, "err", err)
			continue
		}
		if err := b.Move(ctx, key, ReplayedPrefix+key); err != nil {
			return rep, err
		}
		rep.Replayed++
		log.Info("replay: re-driven", "key", key, "function", fn, "records", len(ev.Records))
	}
	return rep, nil
}

func main() {
	bucket := flag.String("bucket", "", "the stream failure bucket (stack output StreamFailureBucketName)")
	prefix := flag.String("prefix", "aws/lambda/", "replay only objects under this prefix")
	dryRun := flag.Bool("dry-run", false, "list what would be re-driven, change nothing")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *bucket == "" {
		fmt.Fprintln(os.Stderr, "replay: -bucket is required")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("replay: aws config", "err", err)
		os.Exit(1)
	}
	rep, err := Replay(ctx, s3Bucket{s3.NewFromConfig(cfg), *bucket}, lambdaInvoke(lambda.NewFromConfig(cfg)), *prefix, *dryRun, log)
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
	if err != nil {
		log.Error("replay", "err", err)
		os.Exit(1)
	}
	if rep.Failed > 0 || rep.Unreadable > 0 {
		os.Exit(1)
	}
}

// s3Bucket is the failure bucket on S3.
type s3Bucket struct {
	c    *s3.Client
	name string
}

func (b s3Bucket) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(b.c, &s3.ListObjectsV2Input{Bucket: &b.name, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", b.name, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

func (b s3Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := b.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", b.name, key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (b s3Bucket) Move(ctx context.Context, key, dst string) error {
	if _, err := b.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b.name, Key: &dst, CopySource: aws.String(b.name + "/" + key)}); err != nil {
		return fmt.Errorf("copy s3://%s/%s: %w", b.name, key, err)
	}
	if _, err := b.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.name, Key: &key}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", b.name, key, err)
	}
	return nil
}

// lambdaInvoke invokes the function synchronously, as the event source mapping does.
func lambdaInvoke(c *lambda.Client) Invoke {
	return func(ctx context.Context, function string, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		payload, err := json.Marshal(ev)
		if err != nil {
			return events.DynamoDBEventResponse{}, err
		}
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &function, Payload: payload})
		if err != nil {
			return events.DynamoDBEventResponse{}, err
		}
		if out.FunctionError != nil {
			return events.DynamoDBEventResponse{}, fmt.Errorf("%s: %s: %s", function, aws.ToString(out.FunctionError), out.Payload)
		}
		var resp events.DynamoDBEventResponse
		if len(out.Payload) > 0 && string(out.Payload) != "null" {
			if err := json.Unmarshal(out.Payload, &resp); err != nil {
				return resp, fmt.Errorf("%s: response: %w", function, err)
			}
		}
		return resp, nil
	}
}
