package signature

import (
	"strings"
	"testing"
)

// FuzzNormalize runs the name normalizer over arbitrary names: it must not panic and must
// stay bounded. (It is not idempotent on garbage such as "()()": each pass drops the
// parameter list that ends the name.)
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"deref", "walk.part.0.isra.0", "foo(int) [clone .isra.0]", "std::vector<int, std::allocator<int> >::at(unsigned long)",
		"void ns::apply<Foo>(Foo&)", "Foo::operator<(Foo const&) const", "operator<<(std::ostream&, Foo const&)", "run(int)::{lambda(int)#1}::operator()(int) const",
		"<&dyn core::ops::function::Fn<(), Output = i32> as core::ops::function::FnOnce<()>>::call_once", "main.(*Server).handle", "panic::pick::h0123456789abcdef",
		"(anonymous namespace)::helper(int)", "a<<b(", "operator()(", "{{{", ")))((("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := Normalize(name)
		if len(got) > maxName {
			t.Fatalf("Normalize(%q) is %d bytes", name, len(got))
		}
		if strings.TrimSpace(name) == "" && got != "" {
			t.Fatalf("Normalize(%q) = %q", name, got)
		}
	})
}
