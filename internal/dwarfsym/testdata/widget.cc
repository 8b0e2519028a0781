#include <cstdio>
#include <vector>

namespace shapes {

template <typename T> struct Widget {
	T base;
	inline T scaled(T k) const { return base * k + 1; } /* SCALED_BODY */
	__attribute__((noinline)) T compute(const std::vector<T> &v) const
	{
		T acc = 0;
		for (T x : v)
			acc += scaled(x); /* COMPUTE_CALL */
		return acc;
	}
};

} // namespace shapes

int main(int argc, char **)
{
	shapes::Widget<long> w{argc};
	std::vector<long> v{1, 2, 3, argc};
	std::printf("%ld\n", w.compute(v));
	return 0;
}
