/**
 * Tiny tokenizer folders built in code, in the two layouts real Llamas use: SentencePiece-style
 * BPE with byte fallback (Llama 2, llama2.c) and GPT-2 byte-level BPE with ChatML (SmolLM2, Llama 3).
 */

const special = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

/** BPE merges that build each word left to right, so every listed word is one token. */
function mergesFor(words: string[]): { merges: [string, string][]; pieces: string[] } {
  const merges: [string, string][] = [];
  const pieces = new Set<string>();
  for (const word of words) {
    const chars = Array.from(word);
    for (const c of chars) pieces.add(c);
    let left = chars[0];
    for (const c of chars.slice(1)) {
      if (!pieces.has(left + c)) merges.push([left, c]);
      left += c;
      pieces.add(left);
    }
  }
  return { merges, pieces: [...pieces] };
}

function vocabFrom(tokens: string[]): Record<string, number> {
  return Object.fromEntries(tokens.map((t, i) => [t, i]));
}

const llamaWords = ["▁the", "▁cat", "▁sat", "▁on", "▁mat", "▁hello"];

export const llamaChatTemplate =
  "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ '[INST] ' + m['content'] + ' [/INST]' }}" +
  "{% else %}{{ ' ' + m['content'] + eos_token }}{% endif %}{% endfor %}";

/** Llama 2 layout: ▁ for spaces, bytes <0x00>…<0xFF> for anything outside the vocabulary, BOS from the post-processor. */
export function llamaTokenizerFiles() {
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const { merges, pieces } = mergesFor(llamaWords);
  const tokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: "▁" },
        { type: "Replace", pattern: { String: " " }, content: "▁" },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "▁" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab: vocabFrom(["<unk>", "<s>", "</s>", ...bytes, ...pieces]),
      merges,
    },
  };
  const tokenizerConfig = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: { content: "<s>", lstrip: false, normalized: false, rstrip: false, single_word: false, __type: "AddedToken" },
    eos_token: "</s>",
    unk_token: "<unk>",
    clean_up_tokenization_spaces: false,
    chat_template: [
      { name: "default", template: llamaChatTemplate },
      { name: "tool_use", template: "{{ raise_exception('tools are not part of this fixture') }}" },
    ],
  };
  return { tokenizerJson, tokenizerConfig };
}

/** GPT-2's reversible map from bytes to printable characters (byte-level BPE spells every token with these). */
function byteLevelAlphabet(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
}

export const chatMlTemplate =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}" +
  "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** SmolLM2 layout: byte-level BPE, ChatML special tokens, no BOS added, stop ids spread over three files. */
export function chatMlTokenizerFiles() {
  const { merges, pieces } = mergesFor(["hello", "Ġworld", "Ġthe", "Ġcat"]);
  const alphabet = byteLevelAlphabet();
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<|endoftext|>"), special(1, "<|im_start|>"), special(2, "<|im_end|>")],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel },
    post_processor: { type: "ByteLevel", ...byteLevel },
    decoder: { type: "ByteLevel", ...byteLevel },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab: vocabFrom(["<|endoftext|>", "<|im_start|>", "<|im_end|>", ...new Set([...alphabet, ...pieces])]),
      merges,
    },
  };
  const tokenizerConfig = {
    eos_token: "<|im_end|>",
    pad_token: "<|im_end|>",
    unk_token: "<|endoftext|>",
    clean_up_tokenization_spaces: false,
    chat_template: chatMlTemplate,
  };
  return {
    tokenizerJson,
    tokenizerConfig,
    generationConfig: { eos_token_id: [2, 0] },
    modelConfig: { bos_token_id: 0, eos_token_id: 2 },
  };
}
