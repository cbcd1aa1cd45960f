/* The fast reading of a logprobs: line (see logprobs_line.h).  It must never
 * accept a line that the cJSON reading would read differently, so it leaves
 * to that reading every line where the two libraries could part:
 *  - escapes (cJSON and simdjson differ on lone surrogates), so any backslash;
 *  - nesting deeper than 64 (cJSON stops at 1000, simdjson at 1024);
 *  - keys that equal a key we read only when case is ignored (cJSON's lookup
 *    ignores case) or that come twice;
 *  - log-probabilities written as integers (simdjson reads "-0" as 0);
 *  - and, of course, every line with a problem: the slow reading explains it.
 * Lines over 64 KiB are left to it too, so the parser's memory stays small.
 * Numbers both read correctly rounded, however long (Debian's cJSON reads
 * every digit; upstream 1.7.15 read only 63 characters). */
#include "eval/logprobs_line.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <string_view>

namespace {

bool same_ignoring_case(std::string_view a, const char *b) {
  size_t i = 0;
  for (; i < a.size() && b[i]; i++) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if ((x >= 'A' && x <= 'Z' ? x + 32 : x) != (y >= 'A' && y <= 'Z' ? y + 32 : y)) return false;
  }
  return i == a.size() && !b[i];
}

/* A log-probability as the cJSON reading takes it: a number with a point or
 * an exponent, finite and <= 0. */
bool logprob(simdjson::dom::element e, double *out) {
  if (e.type() != simdjson::dom::element_type::DOUBLE) return false;
  double x;
  if (e.get_double().get(x) || !std::isfinite(x) || x > 0) return false;
  *out = x;
  return true;
}

/* Exactly `want` log-probabilities (any count when want is 0). */
bool logprobs(simdjson::dom::element e, size_t want, double *v, size_t vcap, size_t *k) {
  simdjson::dom::array a;
  if (e.get_array().get(a)) return false;
  size_t n = a.size();
  if ((want && n != want) || n > vcap) return false;
  size_t j = 0;
  for (simdjson::dom::element x : a)
    if (!logprob(x, &v[j++])) return false;
  *k = n;
  return true;
}

bool read_line(const char *line, size_t len, size_t cap, ivs_task_type type, size_t index, double *v, size_t vcap,
               size_t *k) {
  if (len > (size_t{64} << 10) || cap < len + IVS_LOGPROBS_PAD) return false;
  if (std::memchr(line, '\\', len)) return false;
  /* nesting deeper than 64 fails here, well before cJSON's limit of 1000 */
  thread_local simdjson::dom::parser parser;
  thread_local bool ready = false;
  if (!ready && parser.allocate(size_t{64} << 10, 64)) return false;
  ready = true;
  simdjson::dom::object o;
  if (parser.parse(line, len, false).get_object().get(o)) return false;
  const bool logodds = type == IVS_TYPE_LOGODDS || type == IVS_TYPE_ABSOLUTE_LOGODDS;
  const char *keys[3] = {"index", type == IVS_TYPE_CLASSIFICATION ? "class_logprobs"
                                  : logodds                      ? "prompt_class_logprobs"
                                                                 : "completion_logprob",
                         logodds ? "other_prompt_class_logprobs" : nullptr};
  simdjson::dom::element found[3];
  bool seen[3] = {false, false, false};
  for (simdjson::dom::key_value_pair kv : o) {
    for (size_t j = 0; j < 3 && keys[j]; j++) {
      if (!same_ignoring_case(kv.key, keys[j])) continue;
      if (kv.key != keys[j] || seen[j]) return false;
      seen[j] = true;
      found[j] = kv.value;
    }
  }
  double i;
  if (!seen[0] || !found[0].is_number() || found[0].get_double().get(i) || i != static_cast<double>(index)) return false;
  if (type == IVS_TYPE_CLASSIFICATION) return seen[1] && logprobs(found[1], 0, v, vcap, k);
  if (logodds)
    return vcap >= 4 && seen[1] && seen[2] && logprobs(found[1], 2, v, 2, k) && logprobs(found[2], 2, v + 2, 2, k) &&
           (*k = 4);
  *k = 1;
  return vcap >= 1 && seen[1] && logprob(found[1], v);
}

}  // namespace

int ivs_logprobs_line_fast(const char *line, size_t len, size_t cap, ivs_task_type type, size_t index, double *v,
                           size_t vcap, size_t *k) {
  try {
    return read_line(line, len, cap, type, index, v, vcap, k) ? 1 : 0;
  } catch (...) { /* out of memory in the parser: the slow reading reports it */
    return 0;
  }
}
