package api

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Secrets shown once (a new API key, a generated signing secret, a new tenant's
// first key) are answered to the caller and never kept anywhere else: not in the
// idempotency record that replays the response, so not in the table, its stream or
// its backups. A handler that answers one names its JSON path with call.secret; the
// stored replay omits it and says so (SecretOmittedHeader and the body's
// "secret_omitted").

// SecretOmittedHeader lists, on a replayed response, the JSON paths that the first
// response had and the replay leaves out.
const SecretOmittedHeader = "Secret-Omitted"

// secretOmittedNote is the replay's explanation, in the body's "secret_omitted".
const secretOmittedNote = "this response is a replay of an Idempotency-Key; secrets are shown once and never stored, so the fields listed are left out. If the first response was lost, revoke or rotate what it created and create another."

type secretOmitted struct {
	Fields []string `json:"fields"`
	Reason string   `json:"reason"`
}

// secret marks JSON paths ("key", "api_key.key") of this request's response as
// secrets to keep out of the idempotency record.
func (c *call) secret(paths ...string) { c.secrets = append(c.secrets, paths...) }

// withoutSecrets returns body (a JSON object) with the paths removed and a
// "secret_omitted" member naming those it removed, and the removed paths. A body
// that is not a JSON object, or holds none of the paths, comes back unchanged. It
// fails closed: a body it cannot rewrite is replaced by the note alone.
func withoutSecrets(body []byte, paths []string) ([]byte, []string) {
	if len(paths) == 0 {
		return body, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			return noteOnly(paths)
		}
		return body, nil
	}
	var removed []string
	for _, p := range paths {
		ok, err := removePath(obj, strings.Split(p, "."))
		if err != nil {
			return noteOnly(paths)
		}
		if ok {
			removed = append(removed, p)
		}
	}
	if len(removed) == 0 {
		return body, nil
	}
	note, _ := json.Marshal(secretOmitted{Fields: removed, Reason: secretOmittedNote})
	obj["secret_omitted"] = note
	out, err := json.Marshal(obj)
	if err != nil {
		return noteOnly(paths)
	}
	return out, removed
}

func noteOnly(paths []string) ([]byte, []string) {
	out, _ := json.Marshal(map[string]secretOmitted{"secret_omitted": {Fields: paths, Reason: secretOmittedNote}})
	return out, paths
}

// removePath deletes path from obj and reports whether it was there.
func removePath(obj map[string]json.RawMessage, path []string) (bool, error) {
	raw, ok := obj[path[0]]
	if !ok {
		return false, nil
	}
	if len(path) == 1 {
		delete(obj, path[0])
		return true, nil
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(raw, &inner); err != nil {
		return false, err
	}
	ok, err := removePath(inner, path[1:])
	if err != nil || !ok {
		return ok, err
	}
	if obj[path[0]], err = json.Marshal(inner); err != nil {
		return false, err
	}
	return true, nil
}
