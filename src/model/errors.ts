/**
 * Typed failures of model loading. Each names the file and, where there is one, the tensor or the
 * config field, so a user can tell which of their files is wrong and how.
 */

/** A file whose bytes do not follow its format (truncated, bad header, offsets out of range). */
export class ModelFormatError extends Error {
  override name = "ModelFormatError";
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** A config field that is missing, of the wrong type, or inconsistent with another field. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly source: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${source}: config field "${field}" ${detail}`);
  }
}

/** A tensor stored in a dtype (or quantisation) the loaders do not read. */
export class UnsupportedDtypeError extends Error {
  override name = "UnsupportedDtypeError";
  constructor(
    readonly file: string,
    readonly tensor: string,
    readonly dtype: string,
  ) {
    super(
      `${file}: tensor "${tensor}" has dtype ${dtype}, which is not supported (F32, F16, BF16${file.endsWith(".gguf") ? ", Q8_0" : ""} are)`,
    );
  }
}

/** A tensor that is absent or whose shape disagrees with the model config. */
export class TensorShapeError extends Error {
  override name = "TensorShapeError";
  constructor(
    readonly file: string,
    readonly tensor: string,
    readonly detail: string,
  ) {
    super(`${file}: tensor "${tensor}" ${detail}`);
  }
}

/** A file the model needs (config, weights, tokenizer) that was not among those given. */
export class MissingModelFileError extends Error {
  override name = "MissingModelFileError";
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`missing ${file}: ${detail}`);
  }
}

/** A weight holding NaN or ±Inf: the model would compute NaN everywhere, so it is refused on load. */
export class NonFiniteWeightError extends Error {
  override name = "NonFiniteWeightError";
  constructor(
    readonly file: string,
    readonly tensor: string,
    readonly index: number,
    readonly value: number,
  ) {
    super(`${file}: tensor "${tensor}" holds ${value} at element ${index}; a model's weights must all be finite`);
  }
}
