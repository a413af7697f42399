package query

import (
	"encoding/json"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// JSON array helpers (spec §7.1, P2). The array is the text of a JSON array
// (as the json operator extracts an array field).
//
//	jsonArraySize(arr)          the number of elements; null when arr is not a
//	                            JSON array.
//	jsonArrayContains(arr, v)   whether an element's text equals v's text
//	                            (event.JSONValueText: strings unescaped,
//	                            numbers as written, objects as compact JSON;
//	                            a JSON null element never matches). False
//	                            when arr is not a JSON array or v is null.

func init() {
	registerFunc(&funcSpec{name: "jsonArraySize", minArgs: 1, maxArgs: 1, typ: "long", build: pure1(func(v Value) Value {
		elems, ok := jsonArray(v)
		if !ok {
			return NullValue
		}
		return IntValue(int64(len(elems)))
	})})
	registerFunc(&funcSpec{name: "jsonArrayContains", minArgs: 2, maxArgs: 2, typ: "boolean", build: pure2(func(arr, v Value) Value {
		want, ok := stringArg(v)
		if !ok {
			return BoolValue(false)
		}
		elems, ok := jsonArray(arr)
		if !ok {
			return BoolValue(false)
		}
		for _, e := range elems {
			text, isNull, err := event.JSONValueText(e)
			if err == nil && !isNull && text == want {
				return BoolValue(true)
			}
		}
		return BoolValue(false)
	})})
}

// jsonArray splits the text of a JSON array into its raw elements.
func jsonArray(v Value) ([]json.RawMessage, bool) {
	s, ok := stringArg(v)
	if !ok || !strings.HasPrefix(strings.TrimSpace(s), "[") {
		return nil, false
	}
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(s), &elems); err != nil {
		return nil, false
	}
	return elems, true
}
