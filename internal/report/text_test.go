package report

import "testing"

func TestShellJoin(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"/usr/bin/python3", "-X", "dev", "a=b,c:d@e%f+g"}, "/usr/bin/python3 -X dev a=b,c:d@e%f+g"},
		{[]string{"two words", ""}, "'two words' ''"},
		{[]string{"it's", "$HOME", "ünï"}, `'it'\''s' '$HOME' ünï`},
		{[]string{"tab\there", "bad\xffbyte", "c1\u0085"}, `$'tab\x09here' $'bad\xffbyte' $'c1\xc2\x85'`},
	} {
		if got := shellJoin(c.args); got != c.want {
			t.Errorf("shellJoin(%q) = %s, want %s", c.args, got, c.want)
		}
	}
}
