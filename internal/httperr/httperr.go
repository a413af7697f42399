// Package httperr writes the JSON error envelope every dohyo HTTP endpoint
// answers with: Sumo Logic's {"status", "id", "code", "message"}.
package httperr

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// Error is the envelope. Code is a dotted Sumo-style code
// ("searchjob.parse.error"); Message says what was wrong and where.
type Error struct {
	Status  int    `json:"status"`
	ID      string `json:"id"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

var seq atomic.Uint64

// newID returns an id that is unique in this process and sortable in time,
// for matching a client's error report with the server's log.
func newID() string {
	return fmt.Sprintf("E%X%04X", time.Now().Unix(), seq.Add(1)&0xffff)
}

// Write answers with the envelope.
func Write(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(Error{Status: status, ID: newID(), Code: code, Message: msg})
}
