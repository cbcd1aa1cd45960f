# N examples of 3 classes and two models' log-probabilities (a Park-Miller
# generator: the same numbers with any awk).  boost: how much the second
# model raises the answer's log-probability (0: the two models alike).
function u() { x = (x * 16807) % 2147483647; return x / 2147483647 }
BEGIN {
  x = seed
  for (i = 0; i < n; i++) {
    a = i % 3
    printf "{\"prompt\":\"Question %d: which?\",\"classes\":[\" yes\",\" no\",\" maybe\"],\"answer_index\":%d}\n", i, a > "task.jsonl"
    for (m = 0; m < 2; m++) {
      line = sprintf("{\"index\":%d,\"class_logprobs\":[", i)
      for (k = 0; k < 3; k++) {
        v = -(0.2 + 3 * u())
        if (m == 1 && k == a) v += boost * u()
        if (v > -0.01) v = -0.01
        line = line sprintf("%s%.4f", k ? "," : "", v)
      }
      print line "]}" > ("m" m ".jsonl")
    }
  }
}
