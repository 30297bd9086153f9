package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunRefusesBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-transport", "udp"}, "-transport"},
		{[]string{"-n", "0"}, "-n 0"},
		{[]string{"-duration", "-1s"}, "-duration"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), tt.args, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error about %s", tt.args, err, tt.want)
		}
	}
}

func TestSplitList(t *testing.T) {
	got := splitList(" a, ,b,")
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("splitList = %q, want [a b]", got)
	}
}
