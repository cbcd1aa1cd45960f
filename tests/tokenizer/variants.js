'use strict';
// Edits of the real tokenizers that reach the components they do not use
// themselves (other normalizers, pre-tokenizers, added-token flags, post
// processors, decoders, BPE options).  Written to a work folder at test time;
// the Rust tokenizer is the reference for each one as for the real files.
const fs = require('fs');
const path = require('path');

const clone = (o) => JSON.parse(JSON.stringify(o));
const BL = (extra) => Object.assign({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }, extra);
const split = (pattern, behavior, invert) => ({ type: 'Split', pattern, behavior, invert: !!invert });
const seq = (...p) => ({ type: 'Sequence', pretokenizers: p });
const nseq = (...n) => ({ type: 'Sequence', normalizers: n });
const dseq = (...d) => ({ type: 'Sequence', decoders: d });

// Added tokens as Hugging Face numbers them: a content in the vocabulary keeps
// its id, a new one takes the next id after the largest.
function addTokens(t, list) {
  let next = Math.max(...Object.values(t.model.vocab), ...t.added_tokens.map((a) => a.id)) + 1;
  for (const a of list) {
    const id = t.model.vocab[a.content] ?? next++;
    t.added_tokens.push(Object.assign({ id, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false }, a));
  }
  return t;
}

// The first `keep` ids of a vocabulary and the merges among them (ranks in
// their order): a smaller tokenizer of the same kind, quick to load for both
// sides.  Added tokens outside are renumbered after it.
function trim(t, keep, extra) {
  const vocab = Object.create(null); // no prototype: a token may be spelled "valueOf"
  for (const [k, v] of Object.entries(t.model.vocab)) if (v < keep) vocab[k] = v;
  let next = keep;
  for (const k of extra) if (k in t.model.vocab && !(k in vocab)) vocab[k] = next++;
  const added = [];
  for (const a of t.added_tokens) {
    if (!(a.content in vocab)) vocab[a.content] = a.id < keep ? a.id : next++;
    added.push({ ...a, id: vocab[a.content] });
  }
  const pair = (m) => (typeof m === 'string' ? [m.slice(0, m.indexOf(' ')), m.slice(m.indexOf(' ') + 1)] : m);
  t.model.merges = t.model.merges.filter((m) => { const [a, b] = pair(m); return a in vocab && b in vocab && (a + b) in vocab; });
  t.model.vocab = { ...vocab };
  t.added_tokens = added;
  return t;
}

function variants(real, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const gpt2 = trim(JSON.parse(fs.readFileSync(real.gpt2, 'utf8')), 4096, ['<|endoftext|>']);
  const llama2 = trim(JSON.parse(fs.readFileSync(real.llama2, 'utf8')), 8000, []);
  const EOT = gpt2.model.vocab['<|endoftext|>'];
  const out = [];
  const add = (name, base, edit) => {
    const t = clone(base);
    edit(t);
    const p = path.join(dir, `${name}.json`);
    fs.writeFileSync(p, JSON.stringify(t));
    out.push([`variant/${name}`, p, !!(t.post_processor && t.post_processor.type !== 'ByteLevel')]);
  };
  const gpt2Bl = (extra) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true, ...extra });

  // normalizers
  add('nfd-lower-accents', gpt2, (t) => {
    t.normalizer = nseq({ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' });
    t.pre_tokenizer = gpt2Bl({ add_prefix_space: true });
  });
  add('nfkc-strip', gpt2, (t) => { t.normalizer = nseq({ type: 'NFKC' }, { type: 'Strip', strip_left: true, strip_right: true }); });
  add('nfkd-replace', gpt2, (t) => {
    t.normalizer = nseq({ type: 'NFKD' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
      { type: 'Replace', pattern: { String: "'" }, content: '’' }, { type: 'Strip', strip_left: false, strip_right: true });
  });
  add('nfc-prepend-lower', gpt2, (t) => {
    t.normalizer = nseq({ type: 'NFC' }, { type: 'Prepend', prepend: 'Ġ' }, { type: 'Lowercase' });
    t.pre_tokenizer = BL();
  });
  add('bytelevel-normalizer', gpt2, (t) => {
    t.normalizer = { type: 'ByteLevel' };
    t.pre_tokenizer = split({ Regex: 'Ġ?[^Ġ]+|Ġ+' }, 'Isolated');
  });

  // pre-tokenizers
  add('split-removed', gpt2, (t) => { t.pre_tokenizer = seq(split({ Regex: '\\s+' }, 'Removed'), BL()); });
  add('split-prev', gpt2, (t) => { t.pre_tokenizer = seq(split({ String: ' ' }, 'MergedWithPrevious'), BL()); });
  add('split-next', gpt2, (t) => { t.pre_tokenizer = seq(split({ Regex: '\\p{P}' }, 'MergedWithNext'), BL()); });
  add('split-contig-invert', gpt2, (t) => { t.pre_tokenizer = seq(split({ Regex: '\\p{L}+' }, 'Contiguous', true), BL()); });
  add('split-empty-matches', gpt2, (t) => { t.pre_tokenizer = seq(split({ Regex: 'a*' }, 'MergedWithNext'), BL()); });
  add('bytelevel-prefix-noregex', gpt2, (t) => { t.pre_tokenizer = gpt2Bl({ add_prefix_space: true, use_regex: false }); });
  add('digits', gpt2, (t) => { t.pre_tokenizer = seq({ type: 'Digits', individual_digits: true }, gpt2Bl()); });
  add('digits-contig', gpt2, (t) => { t.pre_tokenizer = seq({ type: 'Digits', individual_digits: false }, BL()); });
  add('whitespace', gpt2, (t) => { t.pre_tokenizer = seq({ type: 'Whitespace' }, BL()); });
  add('whitespace-split', gpt2, (t) => { t.pre_tokenizer = seq({ type: 'WhitespaceSplit' }, BL()); });
  add('punctuation', gpt2, (t) => { t.pre_tokenizer = seq({ type: 'Punctuation', behavior: 'Contiguous' }, BL()); });
  add('bert-pre', gpt2, (t) => { t.pre_tokenizer = seq({ type: 'BertPreTokenizer' }, BL()); });
  add('char-delimiter', gpt2, (t) => { t.pre_tokenizer = seq({ type: 'CharDelimiterSplit', delimiter: 'e' }, BL()); });

  // added tokens with every flag, normalized ones matched after a normalizer
  add('added-flags', gpt2, (t) => {
    t.normalizer = { type: 'Lowercase' };
    t.pre_tokenizer = gpt2Bl({ add_prefix_space: true }); // the prefix space goes on every piece between tokens
    addTokens(t, [
      { content: '<m>', lstrip: true, rstrip: true, special: true, normalized: false },
      { content: '[X]', single_word: true, normalized: false },
      { content: 'Hello', normalized: true },
      { content: 'THE', normalized: true, single_word: true },
      { content: 'ab cd', rstrip: true },
      { content: '<|im_start|>', lstrip: true, special: true, normalized: false },
      { content: '  ', normalized: false },
      { content: '日本', single_word: true, rstrip: true, normalized: false },
      { content: "'s", lstrip: true, normalized: true },
      { content: '<s>', special: true, normalized: false },
      { content: '<s>x', normalized: false },
    ]);
  });

  // post-processors
  add('template-bos-eos', gpt2, (t) => {
    t.post_processor = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<|endoftext|>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [EOT], tokens: ['<|endoftext|>'] } },
    };
  });
  add('roberta', gpt2, (t) => {
    t.post_processor = { type: 'RobertaProcessing', sep: ['<|endoftext|>', EOT], cls: ['!', 0], trim_offsets: true, add_prefix_space: false };
  });
  add('bert-processing', gpt2, (t) => { t.post_processor = { type: 'BertProcessing', sep: ['.', 13], cls: ['<|endoftext|>', EOT] }; });
  add('processor-sequence', gpt2, (t) => {
    t.post_processor = { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }], special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [EOT], tokens: ['<|endoftext|>'] } } }] };
  });

  // decoders and the BPE options
  add('no-decoder', gpt2, (t) => { t.decoder = null; });
  add('ignore-merges', gpt2, (t) => { t.model.ignore_merges = true; });
  add('merges-as-pairs', gpt2, (t) => { t.model.merges = t.model.merges.map((m) => (typeof m === 'string' ? m.split(' ') : m)); });

  // Llama-2 (SentencePiece BPE): Metaspace in its three prepend schemes,
  // without byte fallback (unk, fused or not)
  const ms = (scheme, splitIt, legacy) => (legacy ? { type: 'Metaspace', replacement: '▁', add_prefix_space: scheme !== 'never', ...(scheme === 'never' ? { prepend_scheme: 'never' } : {}) }
    : { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split: splitIt });
  add('llama2-metaspace-always', llama2, (t) => { t.normalizer = null; t.pre_tokenizer = ms('always', true); t.decoder = dseq({ type: 'ByteFallback' }, ms('always', true)); });
  add('llama2-metaspace-first', llama2, (t) => {
    t.normalizer = null;
    t.pre_tokenizer = ms('first', false);
    t.decoder = dseq({ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 });
  });
  add('llama2-split-metaspace-first', llama2, (t) => {
    t.normalizer = null;
    t.pre_tokenizer = seq(split({ Regex: '\\p{P}+' }, 'Isolated'), ms('first', true));
    t.decoder = ms('first', true);
  });
  add('llama2-metaspace-never', llama2, (t) => { t.normalizer = null; t.pre_tokenizer = ms('never', true, true); t.decoder = ms('never', true, true); });
  add('llama2-metaspace-legacy', llama2, (t) => { t.normalizer = null; t.pre_tokenizer = ms('always', true, true); t.decoder = dseq({ type: 'ByteFallback' }, { type: 'Fuse' }, ms('always', true, true)); });
  add('llama2-unk-fused', llama2, (t) => { t.model.byte_fallback = false; t.model.fuse_unk = true; });
  add('llama2-unk', llama2, (t) => {
    t.model.byte_fallback = false;
    t.model.fuse_unk = false;
    t.decoder = dseq({ type: 'Replace', pattern: { Regex: '▁+' }, content: ' ' }, { type: 'Strip', content: ' ', start: 2, stop: 0 });
  });
  add('llama2-strip-lower', llama2, (t) => {
    t.normalizer = nseq({ type: 'Strip', strip_left: true, strip_right: false }, { type: 'Lowercase' }, ...t.normalizer.normalizers);
  });
  return out;
}

module.exports = { variants };
