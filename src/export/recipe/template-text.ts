/**
 * Filling the recipe's template files. Templates stay valid files of their language (Python, YAML,
 * bash) so they can be linted and parsed as they are: a YAML template holds real default values
 * that are replaced key by key, a shell template `{{name}}` placeholders. A key or placeholder
 * that is missing, or a placeholder left unfilled, is a RecipeError naming the template.
 */

export class RecipeError extends Error {
  override name = "RecipeError";
}

type Scalar = string | number | boolean;

/**
 * YAML for a scalar: strings in JSON's double quotes (valid YAML flow scalars), booleans plain, and
 * numbers as YAML 1.1 reads them too: PyYAML (what the scripts load configs with) takes "1e-8" for
 * a string, so an exponent gets a decimal point ("1.0e-8").
 */
export function yamlScalar(value: Scalar): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return String(value);
  if (!Number.isFinite(value)) throw new RecipeError(`cannot write ${value} in YAML`);
  return String(value).replace(/^(-?\d+)e/, "$1.0e");
}

/** Replaces the value of each top-level or nested `key:` line (which must occur exactly once) of a YAML template. */
export function setYamlValues(template: string, name: string, values: Record<string, Scalar>): string {
  let text = template;
  for (const [key, value] of Object.entries(values)) {
    const line = new RegExp(`^(\\s*${key}:) .*$`, "gm");
    const found = text.match(line)?.length ?? 0;
    if (found !== 1) throw new RecipeError(`${name}: expected one "${key}:" line, found ${found}`);
    text = text.replace(line, `$1 ${yamlScalar(value)}`);
  }
  return text;
}

/** Replaces every `{{name}}`; a placeholder without a value, or a value without a placeholder, is an error. */
export function fillPlaceholders(template: string, name: string, values: Record<string, Scalar>): string {
  for (const key of Object.keys(values)) {
    if (!template.includes(`{{${key}}}`)) throw new RecipeError(`${name}: has no {{${key}}} placeholder`);
  }
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!Object.hasOwn(values, key)) throw new RecipeError(`${name}: no value for {{${key}}}`);
    return String(values[key]);
  });
}

export type YamlValue = Scalar | readonly Scalar[] | { [key: string]: YamlValue };

/** Block-style YAML of nested maps whose leaves are scalars or flow lists of scalars. */
export function toYaml(value: { [key: string]: YamlValue }, indent = ""): string {
  return Object.entries(value)
    .map(([key, v]) => {
      if (Array.isArray(v)) return `${indent}${key}: [${v.map(yamlScalar).join(", ")}]\n`;
      if (typeof v === "object") return `${indent}${key}:\n${toYaml(v as { [key: string]: YamlValue }, `${indent}  `)}`;
      return `${indent}${key}: ${yamlScalar(v as Scalar)}\n`;
    })
    .join("");
}
