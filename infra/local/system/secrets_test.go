package system_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/envelope"
)

// TestNoPlaintextSecretsAtRest runs the flows that store secrets (shop, chat and
// WeCom integrations; WeCom, Feishu, DingTalk and generic connectors, created and
// patched), uses them (signed webhooks verified, a WeCom join welcomed through the
// robot, a broadcast), then reads the whole table and every stream record: none
// of the secrets is there in plaintext, raw or URL-encoded, and the API never
// shows one after creation.
func TestNoPlaintextSecretsAtRest(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	const (
		shopSecret     = "shpss_plaintext-shop-secret-0001"
		chatSecret     = "chat-plaintext-secret-0002"
		robotKey       = "robot-key-plaintext-0003"
		robotKey2      = "robot-key-plaintext-0004"
		feishuHook     = "feishu-hook-plaintext-0005"
		feishuSecret   = "feishu-secret-plaintext-0006"
		dingTalkToken  = "dingtalk-token-plaintext-0007"
		dingTalkSecret = "dingtalk-secret-plaintext-0008"
		genericSecret  = "generic-connector-secret-0009"
	)
	secrets := []string{shopSecret, chatSecret, weToken, weAESKey, robotKey, robotKey2, feishuHook, feishuSecret, dingTalkToken, dingTalkSecret, genericSecret}

	created := func(path string, body map[string]any) map[string]any {
		t.Helper()
		code, out := s.call("POST", path, body)
		if code != 201 {
			t.Fatalf("POST %s: %d %v", path, code, out)
		}
		return out
	}
	shop := created("/v1/integrations", map[string]any{"provider": "shopify", "secret": shopSecret})
	generic := created("/v1/integrations", map[string]any{"provider": "generic", "name": "web shop"})
	genSecret, _ := generic["secret"].(string)
	if !strings.HasPrefix(genSecret, "whsec_") {
		t.Fatalf("generated secret not shown at creation: %v", generic)
	}
	secrets = append(secrets, genSecret)
	chat := created("/v1/integrations", map[string]any{"provider": "chat", "secret": chatSecret})
	we := created("/v1/integrations", map[string]any{"provider": "wecom", "token": weToken, "encoding_aes_key": weAESKey, "corp_id": weCorpID})
	robot := created("/v1/connectors", map[string]any{"name": "robot", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey2})
	created("/v1/connectors", map[string]any{"name": "feishu", "kind": "feishu", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/" + feishuHook, "secret": feishuSecret})
	created("/v1/connectors", map[string]any{"name": "dingtalk", "kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=" + dingTalkToken, "secret": dingTalkSecret})
	created("/v1/connectors", map[string]any{"name": "own bot", "kind": "generic", "url": "https://bots.example.com/tribe", "secret": genericSecret})
	// A patch writes the connector again: sealed again, and the new key works.
	if code, out := s.call("PATCH", "/v1/connectors/"+robot["id"].(string), map[string]any{"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey}); code != 200 || out["url"] != "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=REDACTED" {
		t.Fatalf("patch robot: %d %v", code, out)
	}

	// The secrets work where they are used: signatures verify, the robot speaks.
	body, hdr := shopifyDelivery(t, "orders-paid.json", "orders/paid", shopSecret, "d-secrets-1")
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+shop["id"].(string), body, hdr...); code != 200 {
		t.Fatalf("shopify webhook: %d %v", code, out)
	}
	if code := s.chatPost(chat["id"].(string), chatSecret, map[string]any{"id": "evt-s-1", "type": "message.posted", "platform": "telegram", "chat_id": "-100123",
		"user": map[string]any{"id": "u1", "name": "Li"}, "text": "hello", "timestamp": time.Now().UTC().Format(time.RFC3339)}); code != 200 {
		t.Fatalf("chat event: %d", code)
	}
	code, g := s.call("POST", "/v1/groups", map[string]any{"platform": "wecom", "external_chat_id": "CHAT_ID", "type": "brand",
		"naming": map[string]any{"region": "上海", "category": "咖啡", "number": 1}, "connector_id": robot["id"], "welcome_template": "欢迎 {name}"})
	if code != 201 {
		t.Fatalf("group: %d %v", code, g)
	}
	if code, _ := s.weComPost(we["id"].(string), "external_chat_add_member.xml"); code != 200 {
		t.Fatalf("wecom callback: %d", code)
	}
	s.drain()
	// Broadcasts are asynchronous: 202, then the broadcasts consumer sends from the stream.
	if code, out := s.call("POST", "/v1/broadcasts", map[string]any{"group_ids": []string{g["id"].(string)}, "text": "hi all"}); code != 202 {
		t.Fatalf("broadcast: %d %v", code, out)
	}
	s.drain()
	if n := len(bot.messages()); n != 3 {
		t.Errorf("the robot got %d messages, want two welcomes (Jack and Rose) and the broadcast", n)
	}

	// The API shows no secret after creation.
	for _, path := range []string{"/v1/integrations", "/v1/integrations/" + we["id"].(string), "/v1/connectors", "/v1/deliveries"} {
		_, out := s.call("GET", path, nil)
		raw, _ := json.Marshal(out)
		for _, sec := range secrets {
			if strings.Contains(string(raw), sec) {
				t.Errorf("GET %s shows the secret %q: %s", path, sec, raw)
			}
		}
	}

	// Every item in the table, every record on the stream.
	var texts []string
	sealed := 0
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{TableName: &s.table})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(m)
			texts = append(texts, string(raw))
			sealed += strings.Count(string(raw), envelope.Prefix)
		}
	}
	texts = append(texts, streamTexts(t, s.stream)...)
	if sealed < 13 {
		t.Errorf("found %d sealed values in the table, want at least 13 (6 integration values, 7 connector values)", sealed)
	}
	for _, text := range texts {
		for _, sec := range secrets {
			for _, form := range []string{sec, url.QueryEscape(sec)} {
				if strings.Contains(text, form) {
					t.Errorf("plaintext secret %q at rest: %.300s", sec, text)
				}
			}
		}
	}
}

// streamTexts is every record of every shard of the table's stream, as JSON.
func streamTexts(t *testing.T, arn string) []string {
	t.Helper()
	ctx := context.Background()
	cl := dynamolocal.StreamsClient(dynamotest.Endpoint(t))
	desc, err := cl.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sh := range desc.StreamDescription.Shards {
		it, err := cl.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			recs, err := cl.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs.Records {
				raw, _ := json.Marshal(r.Dynamodb)
				out = append(out, string(raw))
			}
			if len(recs.Records) == 0 {
				break
			}
			iter = recs.NextShardIterator
		}
	}
	if len(out) == 0 {
		t.Error("read no stream records")
	}
	return out
}
