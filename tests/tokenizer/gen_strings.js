'use strict';
// Deterministic test strings for the tokenizer oracle test and the benchmark:
// a seeded generator (no Math.random), so every run and every machine gets
// the same strings.  `node gen_strings.js [COUNT] [SEED]` prints them as
// JSONL ({"text": ...}); require() gives generate(count, seed).
//
// Every string is valid UTF-8 without NUL (the CLI reads JSON strings, which
// cJSON ends at \u0000), built from characters assigned by Unicode 13 so that
// the Unicode tables of PCRE2, utf8proc, Oniguruma and Rust agree.

function rng(seed) {
  // xorshift128+ on two 32-bit halves would do; mulberry32 is enough here
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (a) => a[int(a.length)];
  const range = (lo, hi) => lo + int(hi - lo + 1);
  return { next, int, pick, range };
}

const cp = (...c) => String.fromCodePoint(...c);

const WORDS = ('the of and to in is was for on that with as by at from his her it an be this are ' +
  'have not but had they which one you were all we their been has there when who will more would ' +
  'Hello World Inverse Scaling Prize language model tokenizer Über straße naïve café résumé coöperate ' +
  'façade jalapeño Ångström Zürich São Paulo Kraków Dvořák Łódź İstanbul ĲSSEL Ǆemal ﬁnance').split(' ');
const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL", "'D",
  "'rE", "'vE", "'lL", "’s", "’t", "'ſ", "'K", "''s", "'", "'x", "'sT"];
const SPECIALS = ['<|endoftext|>', '<s>', '</s>', '<unk>', '<|begin_of_text|>', '<|end_of_text|>', '<|im_start|>',
  '<|im_end|>', '<|eot_id|>', '<|reserved_special_token_5|>', '<|start_header_id|>', '<|fim_prefix|>',
  '<tool_call>', '</think>', '<think>', '<|vision_pad|>', '<mask>', '<pad>', '[CLS]', '<m>', 'Hello'];
const NEAR = ['<|endoftext|', '<|endoftext>', '|endoftext|>', '<|endoftext |>', '< s>', '<s', 's>', '</ s>', '<</s>>',
  '<|im_start', '<|IM_START|>', '<|im_startx|>', '<<s>>', '<|begin_of_text|', '<|reserved_special_token_|>',
  '<|endoftext|><|endoftext|>', '<s><s>', '</s></s>', '<|<|endoftext|>|>', '<|', '|>', '<>', '<unk', 'unk>'];
const WS = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\r', ' \n', '\n ', '\t\t', ' \t ', '\u000b', '\u000c',
  '\u00a0', '\u3000', '\u2028', '\u2029', '\u0085', '\u1680', '\u2003', '\u202f', '\u205f', '\u200b', '\u180e',
  '\ufeff'];
const CODE = [
  'def f(x):\n    return x ** 2\n',
  'for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}',
  'if __name__ == "__main__":\n    main()',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); return 0; }',
  '{"key": [1, 2.5, -3e10, null, true], "nested": {"a": "b"}}',
  '<div class="x"><a href="https://example.com/?q=1&r=2">link</a></div>',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name;',
  'x = lambda a, b: a+b  # comment\n',
  '$ ls -la | grep "\\.txt$" > out.log 2>&1',
  'fn main() -> Result<(), Box<dyn Error>> { Ok(()) }',
  '    indented\n        more\n\t\ttabs\n',
  'a==b!=c<=d>=e&&f||g::h->i...j',
  'const re = /\\s+(?!\\S)/gu;',
  '    return self._cache[key]  # type: ignore[index]',
  '@media (max-width: 600px) { .a { margin: 0 auto; } }',
  'https://huggingface.co/gpt2/resolve/main/tokenizer.json',
  'user@example.com, +1 (555) 012-3456',
];
const EMOJI = ['😀', '😂', '🙏', '👍', '🎉', '🔥', '❤', '❤️', '✨', '🤖', '🚀', '🇫🇷', '🇯🇵', '🏳️‍🌈', '1️⃣', '#️⃣',
  '👨‍👩‍👧‍👦', '👩‍💻', '🧑🏽‍🚀', '👍🏻', '👍🏿', '👋🏽', '🤷‍♀️', '🏃🏾‍♂️', '👁️‍🗨️', '☺', '☺️', '©', '™', '🀄', '🃏'];
const NFD_PAIRS = [
  ['é', 'e\u0301'], ['Å', 'A\u030a'], ['ñ', 'n\u0303'], ['ö', 'o\u0308'], ['ệ', 'e\u0323\u0302'],
  ['가', '\u1100\u1161'], ['한국어', '\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165'], ['ﬁ', 'fi'],
  ['Å', 'Å'], ['Ω', 'Ω'], ['ｱ', 'ア'], ['Ａ', 'A'], ['①', '1'], ['x²', 'x2'], ['½', '1⁄2'],
  ['ǅ', 'Dž'], ['ſ', 's'], ['ﾊﾟ', 'パ'], ['Ä', 'A\u0308'], ['ḍ̇', 'd\u0323\u0307'], ['ḍ̇', 'd\u0307\u0323'],
  ['\u0958', '\u0915\u093c'], ['ẛ̣', '\u017f\u0323\u0307'], ['İ', 'I\u0307'], ['㍿', '株式会社'],
];

function cjk(r, n) {
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = r.int(6);
    if (k < 3) s += cp(r.range(0x4e00, 0x9fa5));
    else if (k === 3) s += cp(r.range(0x3041, 0x3096));
    else if (k === 4) s += cp(r.range(0x30a1, 0x30fa));
    else s += cp(r.range(0xac00, 0xd7a3));
  }
  return s;
}

function otherScript(r) {
  const blocks = [[0x0391, 0x03c9], [0x0410, 0x044f], [0x05d0, 0x05ea], [0x0627, 0x064a], [0x0905, 0x0939],
    [0x0e01, 0x0e30], [0x10a0, 0x10c5], [0x0531, 0x0556], [0x1200, 0x1248], [0x0c85, 0x0cb9]];
  const [lo, hi] = r.pick(blocks);
  let s = '';
  for (let i = r.range(1, 8); i > 0; i--) s += cp(r.range(lo, hi));
  return s;
}

function combining(r) {
  let s = r.pick(['a', 'e', 'o', 'Z', 'x', 'n', ' ', '1', 'é']);
  for (let i = r.range(1, 6); i > 0; i--) s += cp(r.range(0x0300, 0x036f));
  if (r.int(4) === 0) s += cp(r.pick([0x20dd, 0x0489, 0x1ab0, 0x1dc0, 0x20e3, 0xfe20]));
  return s;
}

function number(r) {
  const k = r.int(9);
  const digits = (n) => { let s = ''; for (let i = 0; i < n; i++) s += String(r.int(10)); return s; };
  if (k === 0) return digits(r.range(1, 40));
  if (k === 1) return digits(r.range(1, 4)) + '.' + digits(r.range(1, 8));
  if (k === 2) return digits(r.range(1, 3)) + ',' + digits(3) + ',' + digits(3);
  if (k === 3) return '-' + digits(r.range(1, 6)) + 'e' + digits(2);
  if (k === 4) return cp(0x0660 + r.int(10), 0x0660 + r.int(10), 0x0660 + r.int(10)); // Arabic-Indic
  if (k === 5) return cp(0xff10 + r.int(10), 0xff10 + r.int(10)); // fullwidth
  if (k === 6) return r.pick(['½', '²', '³', '¼', 'Ⅻ', '①', '⑳', '٣', '१२३', '໓', '𝟙𝟚', '〇', '万']);
  if (k === 7) return '0x' + r.int(0xffffff).toString(16).toUpperCase();
  return digits(r.range(1, 3)) + ':' + digits(2) + ' ' + r.pick(['am', 'PM', '']);
}

function oddButValid(r) {
  return r.pick(['\ufffd', '\ufeff', '\ufffe', '\uffff', '\ufdd0', '\ue000', '\uf8ff', cp(0x10ffff), cp(0xfffff),
    cp(0x1d400, 0x1d401), cp(0x20000), cp(0x2a6d6), '\u0080', '\u009f', '\u0001', '\u001f', '\u007f', '\u00ad',
    '\u200d', '\u200c', '\u2060', '\u202e', '\u0600', '\u061c', '\ud7ff', cp(0xe0041),
    '\u00ff\u00fe', 'Ã©', 'â€™', 'Ä ', 'Ġ', 'Ċ', '▁', '▁▁', '<0x41>', '<0x0A>', '<0xE2>', '\u0100']);
}

function piece(r) {
  switch (r.int(15)) {
    case 0: return r.pick(WORDS);
    case 1: return r.pick(WORDS) + r.pick(CONTRACTIONS);
    case 2: return r.pick(WS);
    case 3: return cjk(r, r.range(1, 12));
    case 4: return r.pick(EMOJI);
    case 5: return combining(r);
    case 6: { const p = r.pick(NFD_PAIRS); return p[r.int(2)]; }
    case 7: return number(r);
    case 8: return r.pick(CODE);
    case 9: return r.pick(SPECIALS);
    case 10: return r.pick(NEAR);
    case 11: return oddButValid(r);
    case 12: return otherScript(r);
    case 13: return r.pick(WORDS).toUpperCase();
    default: return r.pick(['.', ',', '!', '?', ';', ':', '"', '(', ')', '-', '--', '—', '…', '...', '«', '»', '“', '”',
      '¿', '¡', '·', '•', '§', '¶', '@', '#', '$', '%', '^', '&', '*', '_', '__init__', '~', '`', '|', '\\', '/']);
  }
}

// One string of one kind; the kinds make sure every category is well covered
// rather than left to the mix.
function one(r, i) {
  const kind = i % 16;
  const join = () => (r.int(3) === 0 ? '' : r.pick([' ', ' ', ' ', '', '\n', '  ', '\t']));
  let parts = [];
  const many = (n, f) => { for (let k = 0; k < n; k++) parts.push(f()); };
  switch (kind) {
    case 0: { // whitespace runs: mixed, long
      many(r.range(1, 6), () => {
        let w = '';
        for (let k = r.range(1, 30); k > 0; k--) w += r.pick(WS);
        return r.int(2) ? w : r.pick(WORDS) + w;
      });
      if (r.int(5) === 0) parts.push(' '.repeat(r.range(50, 300)));
      if (r.int(5) === 0) parts.push('\n'.repeat(r.range(10, 100)));
      return parts.join('');
    }
    case 1: many(r.range(1, 5), () => cjk(r, r.range(1, 20))); return parts.join(join());
    case 2: many(r.range(1, 8), () => r.pick(EMOJI) + (r.int(3) ? '' : r.pick(WORDS))); return parts.join(join());
    case 3: many(r.range(1, 6), () => combining(r) + r.pick(WORDS)); return parts.join(join());
    case 4: { // NFC/NFD pairs: both forms in one string, and each alone
      const p = r.pick(NFD_PAIRS);
      const w = r.pick(WORDS);
      return r.pick([p[0] + ' ' + p[1], w + p[0], w + p[1], p[1] + w, p[0], p[1], p[0].normalize('NFD'),
        (w + p[0]).normalize('NFKD'), ' ' + p[1] + ' ']);
    }
    case 5: many(r.range(1, 6), () => number(r)); return parts.join(r.pick([' ', '', ', ', '+', 'x']));
    case 6: { const c = r.pick(CODE); return r.int(2) ? c : c.replace(/x/g, r.pick(WORDS)); }
    case 7: { // contractions in mixed case
      many(r.range(1, 6), () => {
        const w = r.pick(WORDS);
        const cased = r.int(3) === 0 ? w.toUpperCase() : w;
        return cased + r.pick(CONTRACTIONS);
      });
      return parts.join(' ');
    }
    case 8: case 9: { // special tokens and near misses inside text
      many(r.range(1, 6), () => {
        const t = r.int(3) === 0 ? r.pick(NEAR) : r.pick(SPECIALS);
        const before = r.pick(['', '', ' ', '  ', '\n', 'a', 'word', '日本', '\t']);
        const after = r.pick(['', '', ' ', '  ', '\n', 'b', 'Hello', '!', ' world']);
        return before + t + after;
      });
      return parts.join(r.pick(['', ' ']));
    }
    case 10: { // leading and trailing spaces
      const w = [];
      for (let k = r.range(1, 4); k > 0; k--) w.push(r.pick(WORDS));
      return r.pick([' ', '  ', '\t', '\n', '', '   ']) + w.join(' ') + r.pick([' ', '  ', '\n', '', ' \n', '\t ']);
    }
    case 11: many(r.range(1, 6), () => oddButValid(r) + r.pick(['', r.pick(WORDS)])); return parts.join(join());
    case 12: { // a long mixed string
      many(r.range(40, 200), () => piece(r));
      return parts.join(join());
    }
    default: many(r.range(1, 12), () => piece(r)); return parts.join(join());
  }
}

function generate(count, seed) {
  const r = rng(seed === undefined ? 12 : seed);
  const out = [];
  for (let i = 0; i < count; i++) {
    let s = one(r, i);
    if (s.includes('\0')) s = s.replace(/\0/g, '');
    out.push(s);
  }
  // short fixed strings that matter: empties, single characters
  out.push('', ' ', 'a', '\n', '<s>', ' <s>', '<s> ', '<|endoftext|>', "'s", 'ſ', 'İ', '▁', '<0x41>');
  return out;
}

module.exports = { generate, rng };

if (require.main === module) {
  const n = Number(process.argv[2] || 3000), seed = Number(process.argv[3] || 12);
  const lines = generate(n, seed).map((s) => JSON.stringify({ text: s }));
  process.stdout.write(lines.join('\n') + '\n');
}
