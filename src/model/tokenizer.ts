/**
 * A model's tokenizer: `@huggingface/tokenizers` over tokenizer.json + tokenizer_config.json, with
 * the special and stop tokens gathered from every file of the model folder that names them,
 * incremental decoding for streaming, and the chat template rendered by `@huggingface/jinja`.
 */

import { Template } from "@huggingface/jinja";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { jsonBoundsProblem } from "../json-bounds";
import { configLimits } from "./config";
import { MissingModelFileError } from "./errors";

/** The files of a model folder that describe its tokenizer, as parsed JSON (absent ones undefined). */
export interface TokenizerFiles {
  tokenizerJson: unknown;
  tokenizerConfig?: unknown;
  /** Older repos name bos/eos/pad only here. */
  specialTokensMap?: unknown;
  /** generation_config.json and config.json: their bos/eos ids complete the stop tokens. */
  generationConfig?: unknown;
  modelConfig?: unknown;
  /** chat_template.jinja, which newer repos ship instead of tokenizer_config.json's chat_template. */
  chatTemplate?: string;
}

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatTemplateOptions {
  /** End with the header that opens the assistant's turn, so generation continues as the assistant. */
  addGenerationPrompt?: boolean;
  /** Further template variables (e.g. `tools`, `enable_thinking`). */
  variables?: Record<string, unknown>;
}

/** A tokenizer that cannot be loaded or used as asked; `source` names the folder or repo. */
export class TokenizerError extends Error {
  override name = "TokenizerError";
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads one text file of a model folder by name; null when the folder has no such file. */
export type ReadModelFile = (name: string) => Promise<string | null>;

/** Loads the tokenizer of the model folder `source` (a path or repo id, used in errors) through `readText`; MissingModelFileError without tokenizer.json. */
export async function loadTokenizer(source: string, readText: ReadModelFile): Promise<Tokenizer> {
  const readJson = async (name: string): Promise<unknown> => {
    const text = await readText(name);
    if (text === null) return undefined;
    // Real tokenizer files nest about 6 deep; their longest strings (templates, patterns) are a few KiB.
    const problem = jsonBoundsProblem(text, { maxDepth: 64, maxString: 262_144 });
    if (problem) throw new TokenizerError(source, `${name} in ${source} is refused: ${problem}`);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new TokenizerError(source, `${name} in ${source} is not valid JSON: ${(e as Error).message}`);
    }
  };
  const tokenizerJson = await readJson("tokenizer.json");
  if (tokenizerJson === undefined) {
    throw new MissingModelFileError("tokenizer.json", `${source} has no tokenizer.json (a Hugging Face "fast" tokenizer file is required)`);
  }
  const files: TokenizerFiles = {
    tokenizerJson,
    tokenizerConfig: await readJson("tokenizer_config.json"),
    specialTokensMap: await readJson("special_tokens_map.json"),
    generationConfig: await readJson("generation_config.json"),
    modelConfig: await readJson("config.json"),
    chatTemplate: (await readText("chat_template.jinja")) ?? undefined,
  };
  return new Tokenizer(files, source);
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

/** Special tokens are written either as a string or as an AddedToken object `{ content, ... }`. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  const content = asObject(value).content;
  return typeof content === "string" ? content : undefined;
}

/** `eos_token_id` is a number or a list of numbers in config.json and generation_config.json. */
function tokenIds(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is number => Number.isInteger(v));
}

function chatTemplateOf(tokenizerConfig: Json): string | undefined {
  const t = tokenizerConfig.chat_template;
  if (typeof t === "string") return t;
  // Repos with several templates store [{ name, template }]; "default" is the one for plain chat.
  const named = Array.isArray(t) ? t.map(asObject).find((e) => e.name === "default")?.template : undefined;
  return typeof named === "string" ? named : undefined;
}

const specialTokenKeys = ["bos_token", "eos_token", "pad_token", "unk_token"] as const;

/**
 * Every id of the vocabulary and the added tokens must be an integer below the largest vocabulary a
 * config may declare: the library sizes its id table by the largest id, so one id of 2^31 would make
 * it build a table of two billion entries (minutes, gigabytes) before anything else fails.
 */
function checkTokenIds(tokenizerJson: Json, source: string): void {
  const check = (id: unknown, where: string) => {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= configLimits.vocab_size) {
      const shown = typeof id === "number" ? id : typeof id;
      throw new TokenizerError(
        source,
        `tokenizer.json in ${source}: ${where} has id ${shown}; ids must be integers in [0, ${configLimits.vocab_size})`,
      );
    }
  };
  const vocab = asObject(tokenizerJson.model).vocab;
  if (vocab !== null && typeof vocab === "object" && !Array.isArray(vocab)) {
    for (const [token, id] of Object.entries(vocab)) check(id, `model.vocab[${JSON.stringify(token.slice(0, 40))}]`);
  }
  const added = tokenizerJson.added_tokens;
  if (Array.isArray(added)) for (const [i, t] of added.entries()) check(asObject(t).id, `added_tokens[${i}]`);
}

export class Tokenizer {
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  /** Generation ends at any of these: tokenizer_config's eos_token and every eos id of generation_config.json and config.json. */
  readonly stopTokenIds: ReadonlySet<number>;
  readonly specialTokenIds: ReadonlySet<number>;
  /** Whether `encode` adds BOS when not told: tokenizer_config's add_bos_token, else what tokenizer.json's post-processor does. */
  readonly addBosByDefault: boolean;
  /** One more than the largest token id. */
  readonly vocabSize: number;
  readonly chatTemplate: string | undefined;
  private readonly hf: HfTokenizer;
  private readonly specialTokenStrings: Record<string, string>;
  private compiledTemplate: Template | undefined;

  constructor(
    files: TokenizerFiles,
    readonly source = "tokenizer",
  ) {
    const tokenizerConfig = asObject(files.tokenizerConfig);
    const specialTokensMap = asObject(files.specialTokensMap);
    const generationConfig = asObject(files.generationConfig);
    const modelConfig = asObject(files.modelConfig);
    const tokenizerJson = asObject(files.tokenizerJson);
    checkTokenIds(tokenizerJson, source);
    try {
      this.hf = new HfTokenizer(tokenizerJson, tokenizerConfig);
      // The library builds its tables lazily: a malformed post_processor or decoder only throws on first use.
      this.hf.encode("", { add_special_tokens: true });
      // Ids, not distinct strings: a vocabulary may spell two ids alike (llama2.c's does).
      let maxId = -1;
      for (const id of this.hf.get_vocab().values()) maxId = Math.max(maxId, id);
      this.vocabSize = maxId + 1;

      this.specialTokenStrings = {};
      for (const key of specialTokenKeys) {
        const content = tokenContent(tokenizerConfig[key]) ?? tokenContent(specialTokensMap[key]);
        if (content !== undefined) this.specialTokenStrings[key] = content;
      }
      const idOf = (key: (typeof specialTokenKeys)[number]): number | undefined => {
        const content = this.specialTokenStrings[key];
        return content === undefined ? undefined : this.hf.token_to_id(content);
      };
      this.bosTokenId = idOf("bos_token") ?? tokenIds(generationConfig.bos_token_id)[0] ?? tokenIds(modelConfig.bos_token_id)[0];
      this.eosTokenId = idOf("eos_token") ?? tokenIds(generationConfig.eos_token_id)[0] ?? tokenIds(modelConfig.eos_token_id)[0];
      this.padTokenId = idOf("pad_token") ?? tokenIds(generationConfig.pad_token_id)[0];

      const stop = new Set([...tokenIds(generationConfig.eos_token_id), ...tokenIds(modelConfig.eos_token_id)]);
      if (this.eosTokenId !== undefined) stop.add(this.eosTokenId);
      this.stopTokenIds = stop;

      const special = new Set<number>();
      for (const [id, token] of this.hf.get_added_tokens_decoder()) if (token.special) special.add(id);
      for (const id of [this.bosTokenId, this.eosTokenId, this.padTokenId, idOf("unk_token")]) if (id !== undefined) special.add(id);
      this.specialTokenIds = special;

      const postProcessorAddsBos =
        this.bosTokenId !== undefined && this.hf.encode("", { add_special_tokens: true }).ids[0] === this.bosTokenId;
      const addBos = tokenizerConfig.add_bos_token;
      this.addBosByDefault = this.bosTokenId !== undefined && (typeof addBos === "boolean" ? addBos : postProcessorAddsBos);
      this.chatTemplate = files.chatTemplate ?? chatTemplateOf(tokenizerConfig);
    } catch (e) {
      throw new TokenizerError(source, `tokenizer.json in ${source} cannot be loaded: ${(e as Error).message}`);
    }
  }

  /** Token ids of `text`; special-token strings in it become their ids. BOS is prepended when `bos` (default `addBosByDefault`). */
  encode(text: string, { bos = this.addBosByDefault }: { bos?: boolean } = {}): number[] {
    const ids = this.hf.encode(text, { add_special_tokens: false }).ids;
    if (!bos) return ids;
    if (this.bosTokenId === undefined) {
      throw new TokenizerError(this.source, `encode: BOS was asked for but the tokenizer of ${this.source} defines no bos_token`);
    }
    return [this.bosTokenId, ...ids];
  }

  decode(ids: readonly number[], { skipSpecialTokens = false }: { skipSpecialTokens?: boolean } = {}): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new TokenizerError(this.source, `decode: token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      }
    }
    // The library rejects an empty list; an empty sequence is simply empty text.
    if (ids.length === 0) return "";
    return this.hf.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  isStopToken(id: number): boolean {
    return this.stopTokenIds.has(id);
  }

  /** A decoder for a stream of generated ids that yields text only once each character is complete. */
  streamDecoder({ skipSpecialTokens = false }: { skipSpecialTokens?: boolean } = {}): StreamDecoder {
    return new StreamDecoder((ids) => this.decode(ids, { skipSpecialTokens }));
  }

  /** The conversation rendered as the model was trained to see it (text; encode it with `encodeChat`). */
  applyChatTemplate(messages: readonly ChatMessage[], { addGenerationPrompt = false, variables = {} }: ChatTemplateOptions = {}): string {
    if (this.chatTemplate === undefined) {
      throw new TokenizerError(
        this.source,
        `${this.source} has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja)`,
      );
    }
    try {
      this.compiledTemplate ??= new Template(this.chatTemplate);
      return this.compiledTemplate.render({
        ...this.specialTokenStrings,
        ...variables,
        messages,
        add_generation_prompt: addGenerationPrompt,
      });
    } catch (e) {
      throw new TokenizerError(this.source, `chat template of ${this.source} failed: ${(e as Error).message}`);
    }
  }

  /** Ids of the rendered conversation. Never adds BOS: templates that want one write `bos_token` themselves. */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options), { bos: false });
  }
}

/**
 * Incremental decoding (the scheme of text-generation-inference): decode a short window of recent
 * ids, with the already-emitted `prefix` ids in front so that decoders which strip a leading space
 * or merge bytes see the context, and emit only the new text. A window ending in U+FFFD is a
 * multi-byte character still waiting for its remaining bytes, so nothing is emitted yet.
 */
export class StreamDecoder {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** Adds one generated id; returns the text it completes ("" while a character is incomplete). */
  push(id: number): string {
    this.ids.push(id);
    const prefix = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const text = this.decode(this.ids.slice(this.prefixOffset));
    if (text.length <= prefix.length || text.endsWith("\uFFFD")) return "";
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return text.slice(prefix.length);
  }

  /** At the end of the stream: whatever was held back (an unfinished character decodes to U+FFFD). */
  flush(): string {
    const prefix = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const text = this.decode(this.ids.slice(this.prefixOffset));
    this.prefixOffset = this.readOffset = this.ids.length;
    return text.slice(prefix.length);
  }
}
