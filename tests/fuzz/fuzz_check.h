// FUZZ_CHECK: the property a fuzz target asserts on every input. A failure
// aborts, which libFuzzer records as a crash (with the input) and the replay
// main turns into a failed test. Not assert(): it must hold in release builds.
#ifndef CALLSD_TESTS_FUZZ_FUZZ_CHECK_H_
#define CALLSD_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(condition, what)                                                   \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__, \
                   #condition, std::string(what).c_str());                           \
      std::abort();                                                                   \
    }                                                                                 \
  } while (false)

#endif  // CALLSD_TESTS_FUZZ_FUZZ_CHECK_H_
